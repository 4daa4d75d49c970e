"""The local runtime: moto + the stack's resources + the real handlers + an API Gateway-like HTTP API.

Start-up order: synthesized stack -> moto server -> tables (with their streams), queues, topic -> functions,
each with a first execution environment holding its own resolved environment -> sample merchants -> event
source pollers -> event buses and stream pipes (the enqueue and the alerts) -> alert printer -> HTTP API
-> schedules -> banner and ``LOCAL_READY_FILE`` (``local.banner``). Ctrl-C or SIGTERM stops everything in
reverse order. Scripted outages (``LOCAL_OUTAGE``) count from the moment it is ready.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

from local.api_keys import KeyLookup
from local.aws import CREDENTIALS, MotoServer, Provisioned, client, provision, session
from local.banner import banner, write_ready_file
from local.config import LocalConfig
from local.event_bus import Endpoints, EventBus
from local.faults import FaultInjector
from local.functions import LocalFunction
from local.gateway import Gateway
from local.lambda_context import ACCOUNT_ID
from local.metrics import MetricsSink, parse_emf
from local.openapi import build_openapi, with_local_server
from local.pollers import Poller
from local.request_counter import RequestCounter, Tally
from local.schedules import LocalSchedule
from local.seed import seed_merchants
from local.stack import FunctionSpec, StackSpec, load_stack
from local.stream_pipes import StreamPipe
from local.synth import stack_json
from tools.clients import ClientLifecycle, Names


def prepare_process_environment(environ: MutableMapping[str, str], region: str) -> None:
    """Fake credentials and the region for everything in this process: nothing can reach AWS."""
    for name in list(environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in (
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
        ):
            del environ[name]
    environ["AWS_ACCESS_KEY_ID"] = CREDENTIALS["aws_access_key_id"]
    environ["AWS_SECRET_ACCESS_KEY"] = CREDENTIALS["aws_secret_access_key"]
    environ["AWS_DEFAULT_REGION"] = region
    environ["AWS_REGION"] = region
    environ["AWS_EC2_METADATA_DISABLED"] = "true"
    environ["AWS_CONFIG_FILE"] = os.devnull
    environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


def local_timings(variables: Mapping[str, str], config: LocalConfig) -> dict[str, str]:
    """The stack's waits measured in minutes, shortened for a local run: the reconciler's age threshold
    (only variables the function has are replaced)."""
    shorter = {"RECONCILE_AFTER_SECONDS": config.reconcile_after_seconds}
    return {name: str(value) for name, value in shorter.items() if name in variables}


def function_environment(
    spec: FunctionSpec, variables: Mapping[str, str], config: LocalConfig, region: str, endpoint: str
) -> dict[str, str]:
    """The process environment of one of ``spec``'s execution environments: Lambda's runtime variables,
    fake credentials and the moto endpoint, then the function's own variables from the stack (with the
    local timings)."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONUNBUFFERED": "1",
        "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
        "_HANDLER": spec.handler,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "AWS_ENDPOINT_URL": endpoint,  # boto3 honours it: the function's clients talk to moto
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        **variables,
        **local_timings(variables, config),
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
        "POWERTOOLS_LOG_LEVEL": config.log_level,
    }


class LocalRuntime:
    def __init__(self, config: LocalConfig, stack: StackSpec) -> None:
        self.config = config
        self.stack = stack
        self.stop_event = threading.Event()
        self.moto = MotoServer(config.aws_port)
        # AWS requests of the functions, of the pollers standing in for Lambda's event source mappings, of
        # the scheduled functions (the reconciler: per run, not per transaction) and of the stream pipes and
        # event buses (the stream reads, the enqueue's SendMessage, the alerts' Publish, the DLQs)
        self.requests = {
            "functions": RequestCounter(),
            "event_source_mappings": RequestCounter(),
            "schedules": RequestCounter(),
            "pipes": RequestCounter(),
        }
        self.faults = Tally()  # faults injected into the functions' calls
        self.log_bytes = Tally()  # bytes the functions wrote, by function and kind (what CloudWatch ingests)
        self.metrics = MetricsSink()
        self.functions: dict[str, LocalFunction] = {}
        self.pollers: list[Poller] = []
        self.pipes: list[StreamPipe] = []
        self.buses: dict[str, EventBus] = {}
        self._pipe_faults: FaultInjector | None = None
        self.schedules: list[LocalSchedule] = []
        self.ready_at: float | None = None  # wall clock; scripted outages count from it
        self.gateway: Gateway | None = None
        self.provisioned: Provisioned | None = None
        self.seeded: list[dict[str, Any]] = []
        self._threads: list[threading.Thread] = []
        self.sqs: Any = None
        self._openapi = build_openapi(stack.api, stack.region) if stack.api else None
        # API client -> its key (LOCAL_API_CLIENTS, LOCAL_API_KEY or generated)
        self.client_keys = config.client_keys([c.name for c in stack.api.clients] if stack.api else [])
        self.client_key_ids: dict[str, str] = {}  # created in moto's API Gateway at start

    # --- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> None:
        prepare_process_environment(os.environ, self.stack.region)
        endpoint = self.moto.start()
        own = session(self.stack.region)
        mappings = session(self.stack.region)
        self.requests["event_source_mappings"].install(mappings.events)
        self.sqs = client(own, "sqs", endpoint)
        self.provisioned = provision(self.stack, endpoint, own)
        resolver = self.provisioned.resolver
        scheduled = {schedule.function for schedule in self.stack.schedules}
        for spec in self.stack.functions:
            counter = self.requests["schedules" if spec.logical_id in scheduled else "functions"]
            self.functions[spec.logical_id] = LocalFunction(
                spec,
                function_environment(
                    spec, resolver.resolve(spec.environment), self.config, self.stack.region, endpoint
                ),
                region=self.stack.region,
                concurrency=self.config.concurrency,
                faults=self.config.faults,
                output=self._function_output,
                usage=functools.partial(self._function_usage, counter),
            )
        self._start_functions()
        self._issue_keys(own, endpoint)
        if self.config.seed_merchants:
            table = self.merchant_table()
            if table:
                self.seeded = seed_merchants(client(own, "dynamodb", endpoint), table)
        for mapping in self.stack.mappings:
            if not mapping.enabled:
                continue
            queue = self.stack.queue(mapping.queue)
            poller = Poller(
                mapping,
                self.functions[mapping.function],
                client(mappings, "sqs", endpoint),
                queue_url=self.provisioned.queue_urls[mapping.queue],
                queue_arn=self.provisioned.queue_arns[mapping.queue],
                queue_name=queue.name,
                region=self.stack.region,
                retry_visibility_seconds=self.config.retry_visibility_seconds,
                stop=self.stop_event,
                concurrency=min(mapping.maximum_concurrency or 1, self.config.concurrency),
            )
            poller.start()
            self.pollers.append(poller)
        self._start_pipes(endpoint)
        if self.provisioned.console_url:
            printer = threading.Thread(target=self._print_alerts, name="alerts", daemon=True)
            printer.start()
            self._threads.append(printer)
        if self.stack.api is not None:
            self.gateway = Gateway(
                self.stack.api,
                self.functions,
                keys=KeyLookup(client(own, "apigateway", endpoint), self.provisioned.usage_plan_ids),
                port=self.config.api_port,
                openapi=lambda url: with_local_server(self._openapi or {}, url),
                status=self.status,
                access_log=self.config.access_log,
            )
            self.gateway.start()
        for schedule in self.stack.schedules:
            if schedule.enabled:
                local = LocalSchedule(
                    schedule, self.functions[schedule.function], self.config.schedule_seconds, self.stop_event
                )
                local.start()
                self.schedules.append(local)
        self.ready_at = time.time()
        for function in self.functions.values():
            function.outage_origin = self.ready_at
        if self._pipe_faults is not None:
            self._pipe_faults.origin = self.ready_at

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
        self.stop_event.set()
        for poller in self.pollers:
            poller.join(5)
        for pipe in self.pipes:
            pipe.join(5)
        for bus in self.buses.values():
            bus.join(5)
        for thread in self._threads:
            thread.join(5)
        for schedule in self.schedules:
            schedule.join(5)
        for function in self.functions.values():
            function.stop()
        self.moto.stop()

    def _start_pipes(self, endpoint: str) -> None:
        """One ``EventBus`` per bus of the stack's rules and one ``StreamPipe`` per pipe, reading from now
        on. The buses' deliveries to SNS and SQS fail like the functions' calls when the fault settings
        name those services (the managed service's Publish or SendMessage is what fails then)."""
        assert self.provisioned is not None
        own = session(self.stack.region)
        self.requests["pipes"].install(own.events)
        sns, targets_sqs, sqs = (client(own, service, endpoint) for service in ("sns", "sqs", "sqs"))
        faults = self.config.faults
        if faults.enabled:  # random faults of the services named; outages of theirs
            delivered = tuple(s for s in ("sns", "sqs") if s in faults.services)
            self._pipe_faults = FaultInjector(dataclasses.replace(faults, services=delivered))
            for delivering in (sns, targets_sqs):
                self._pipe_faults.install(delivering.meta.events)
        injector = self._pipe_faults
        endpoints = Endpoints(
            self.provisioned.topic_arns, self.provisioned.queue_urls, self.provisioned.queue_arns
        )
        buses = self.stack.doc.get("resource", {}).get("aws_cloudwatch_event_bus", {})
        for logical_id, body in buses.items():
            bus = EventBus(
                body["name"],
                [r for r in self.stack.rules if r.bus == logical_id],
                sns=sns,
                sqs=targets_sqs,
                dead_letters=sqs,
                endpoints=endpoints,
                account=ACCOUNT_ID,
                region=self.stack.region,
                stop=self.stop_event,
                on_attempt=(lambda: self.faults.add(injector.take())) if injector else lambda: None,
            )
            bus.start()
            self.buses[logical_id] = bus
        for spec in self.stack.pipes:
            dlq = spec.dead_letter_queue
            pipe = StreamPipe(
                spec,
                streams=client(own, "dynamodbstreams", endpoint),
                bus=self.buses[spec.bus],
                sqs=sqs,
                stream_arn=self.provisioned.stream_arns[spec.table],
                dlq_url=self.provisioned.queue_urls[dlq] if dlq else None,
                stop=self.stop_event,
            )
            pipe.start()
            self.pipes.append(pipe)

    def _start_functions(self) -> None:
        """A first execution environment of each function, started side by side; the first failure
        (an import error, a bad environment) stops the start-up."""
        errors: list[BaseException] = []

        def start(function: LocalFunction) -> None:
            try:
                function.start()
            except BaseException as exc:  # reported below, in this thread
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(f,)) for f in self.functions.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def _function_output(self, function: str, line: str) -> None:
        """A line a function wrote: its metrics are counted (like CloudWatch does), its logs printed."""
        values = parse_emf(line)
        self.log_bytes.add({f"{function}:{'log' if values is None else 'emf'}": len(line.encode()) + 1})
        if values is None:
            print(line, flush=True)
        else:
            self.metrics.record(function, values)

    def _function_usage(
        self, counter: RequestCounter, requests: Mapping[str, int], faults: Mapping[str, int]
    ) -> None:
        counter.add(requests)
        self.faults.add(faults)

    # --- helpers ------------------------------------------------------------------------------------------
    def _issue_keys(self, own: Any, endpoint: str) -> None:
        """Each client's key, created like ``python -m tools.clients add`` does (with its local value)."""
        if self.stack.api is None or not self.stack.api.clients:
            return
        names = Names(
            self.stack.api.name,
            self.function_setting("API_KEY_TABLE_NAME") or "",
            self.merchant_table() or "",
        )
        lifecycle = ClientLifecycle(
            client(own, "apigateway", endpoint), client(own, "dynamodb", endpoint), names
        )
        for name, value in self.client_keys.items():
            self.client_key_ids[name] = lifecycle.add(name, value=value).key_id

    def function_setting(self, variable: str) -> str | None:
        """A variable of the first function that has it (resolved to local values)."""
        for function in self.functions.values():
            if value := function.environment.get(variable):
                return value
        return None

    def merchant_table(self) -> str | None:
        """The table the validation function reads merchants from (its MERCHANT_TABLE_NAME)."""
        return self.function_setting("MERCHANT_TABLE_NAME")

    def _print_alerts(self) -> None:
        url = self.provisioned.console_url if self.provisioned else ""
        while not self.stop_event.is_set():
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                ).get("Messages", [])
                for message in messages:
                    envelope = json.loads(message["Body"])
                    subject = envelope.get("Subject") or "alert"  # alarms have one; the pipes' alerts do not
                    print(f"[alert] {subject}: {envelope.get('Message')}", flush=True)
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            except Exception as exc:
                if self.stop_event.is_set():
                    return
                print(f"[alert] printer: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                self.stop_event.wait(1)

    def describe(self) -> dict[str, Any]:
        """Endpoints and resources (written to LOCAL_READY_FILE; also in GET /_local/status)."""
        provisioned = self.provisioned
        assert provisioned is not None
        return {
            "api_url": self.gateway.url if self.gateway else None,
            "aws_endpoint": self.moto.endpoint,
            "api_key": next(iter(self.client_keys.values()), None),  # the first client's
            "api_clients": {
                name: {"api_key_id": self.client_key_ids.get(name), "api_key": key}
                for name, key in self.client_keys.items()
            },
            "region": self.stack.region,
            "stage": self.stack.api.stage if self.stack.api else None,
            "tables": [t.name for t in self.stack.tables],
            "queues": {self.stack.queue(k).name: v for k, v in provisioned.queue_urls.items()},
            "topics": {t.name: provisioned.topic_arns[t.logical_id] for t in self.stack.topics},
            "alerts_inbox_url": provisioned.inbox_url,
            "functions": {f.name: f.spec.handler for f in self.functions.values()},
            "pid": os.getpid(),
        }

    def status(self) -> dict[str, Any]:
        return {
            "ready": True,
            "functions": {
                f.name: {
                    "invocations": f.invocations,
                    "errors": f.errors,
                    "throttles": f.throttles,
                    "environments": f.environments,
                }
                for f in self.functions.values()
            },
            "pollers": {
                p.function.name: {
                    "queue": p.queue_name,
                    "batches": p.batches,
                    "succeeded": p.succeeded,
                    "failed": p.failed,
                }
                for p in self.pollers
            },
            "schedules": {
                s.spec.name: {"function": s.function.name, "runs": s.runs, "failed": s.failed}
                for s in self.schedules
            },
            "pipes": {
                p.spec.name: {
                    "read": p.read,
                    "published": p.published,
                    "retried": p.retried,
                    "dead_lettered": p.dead_lettered,
                }
                for p in self.pipes
            },
            "rules": {
                name: dataclasses.asdict(counts)
                for bus in self.buses.values()
                for name, counts in bus.counts.items()
            },
            "outages": [
                {"services": list(w.services), "start": w.start, "duration": w.duration}
                for w in self.config.faults.outages
            ],
            "faults": self.faults.summary(),
            "log_bytes": self.log_bytes.summary(),
            "metrics": self.metrics.summary(),
            "aws_requests": {name: counter.summary() for name, counter in self.requests.items()},
        }


def run(environ: Mapping[str, str] | None = None) -> int:
    environ = dict(os.environ if environ is None else environ)
    config = LocalConfig.from_env(environ)
    stack = load_stack(stack_json(environ))
    runtime = LocalRuntime(config, stack)
    stopping = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        stopping.set()

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        runtime.start()
        print(banner(runtime), flush=True)
        if config.ready_file:
            write_ready_file(config.ready_file, runtime.describe())
        while not stopping.wait(0.5):
            pass
        print("Stopping ...", flush=True)
    finally:
        runtime.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if config.ready_file:
            Path(config.ready_file).unlink(missing_ok=True)
    print("Stopped.", flush=True)
    return 0
