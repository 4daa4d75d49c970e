"""Every command of docs/runbooks.md names its principal, and that principal may run it under the policies
the stacks write (evaluated by ``tests.infra.policy_eval``, which says what it does not model)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from card_transactions.stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK
from tests.infra.conftest import DEPLOY_ROLE, OPERATOR_ROLE
from tests.infra.policy_eval import (
    ACCOUNT,
    ALLOW,
    EXPLICIT_DENY,
    Request,
    Resolver,
    ResourcePolicies,
    decide,
)
from tests.infra.synth import Stack

CLIENTS_ROLE = "arn:aws:iam::123456789012:role/api-clients-admin"
RUNBOOKS = Path(__file__).resolve().parents[2] / "docs" / "runbooks.md"
ENV, REGION = "dev", "us-east-2"
PRINCIPALS = ("operator", "clients", "deploy", "local")
COMMAND = re.compile(
    r"\baws\s+([a-z0-9-]+)\s+([a-z0-9-]+)(.*?)(?=\baws\s+[a-z]|$)|\bmake\s+(?:-s\s+)?(?:replay|clients(?:-local)?)(?![\w-])"
)
# The options that name what a command acts on (the others only shape its output).
TARGETS = (
    "table-name",
    "index-name",
    "log-group-name",
    "log-stream-name",
    "function-name",
    "queue-url",
    "name",
    "topic-arn",
)
OPTION = re.compile(r"--([a-z-]+)[ =](\"[^\"]*\"|'[^']*'|\S+)")


@dataclass(frozen=True)
class Command:
    principal: str
    text: str  # "aws sqs purge-queue --queue-url $ASYNC_URL" or "make replay"
    options: dict[str, str]
    line: str = ""  # the line or sentence it is on

    @property
    def name(self) -> str:
        return " ".join(self.text.split()[: 3 if self.text.startswith("aws") else 2])


def _commands_in(text: str, principal: str) -> Iterator[Command]:
    for match in COMMAND.finditer(text.replace("\\\n", " ")):
        rest = match.group(3) or ""
        options = {name: value.strip("\"'") for name, value in OPTION.findall(rest) if name in TARGETS}
        # make's -s (silent: the output is the command's alone, e.g. a key redirected to a file) calls nothing
        yield Command(principal, re.sub(r"^make\s+-s\s+", "make ", match.group(0).strip()), options, text)


def runbook_commands() -> list[Command]:
    """Each command of the runbooks with the principal its block or sentence names (none: "")."""
    text = RUNBOOKS.read_text(encoding="utf-8")
    found: list[Command] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        header = re.match(r"# as ([a-z]+)\n", block)
        for line in block.split("\n"):
            found += _commands_in(line, header.group(1) if header else "")
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    for span, principal in re.findall(
        r"`((?:aws |make\s+(?:-s\s+)?(?:replay|clients))[^`]*)`(?: \(as ([a-z]+)\))?", prose
    ):
        found += _commands_in(span.replace("\n", " "), principal)
    return found


# ---------- what each command calls ----------


@dataclass(frozen=True)
class Names:
    """The runbook's shell variables, as the configured stacks name things."""

    stack: Stack

    def expand(self, value: str) -> list[str]:
        table = f"processed-transactions-{ENV}"
        rest_api = next(iter(self.stack.resources("aws_api_gateway_rest_api")))
        queue = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/"
        variables = {
            "$TABLE": [table],
            "$QUEUE_URL": [f"{queue}transaction-queue-{ENV}"],
            "$DLQ_URL": [f"{queue}transaction-dlq-{ENV}"],
            "$ASYNC_URL": [f"{queue}lambda-async-failures-{ENV}"],
            "$ALERT_DLQ_URL": [f"{queue}transaction-alerts-{ENV}-dlq"],
            "$FN": [b["function_name"] for b in self.stack.resources("aws_lambda_function").values()],
            "$GROUP": self.log_groups,
            "$TOPIC_ARN": [f"arn:aws:sns:{REGION}:{ACCOUNT}:transaction-alerts-{ENV}"],
            "$STREAM": ["stream"],
        }
        value = value.replace("$ENV", ENV).replace("$API_ID", f"api-{rest_api}")
        for variable, values in variables.items():
            if variable in value:
                return [value.replace(variable, v) for v in values]
        assert "$" not in value, f"unknown variable in {value!r}"
        return [value]

    @property
    def log_groups(self) -> list[str]:
        """The groups masking card data (the runbook loops over them)."""
        r = Resolver(self.stack)
        policies = self.stack.resources("aws_cloudwatch_log_data_protection_policy").values()
        return [r.value(p["log_group_name"]) for p in policies]


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def _queue(url: str) -> str:
    return _arn("sqs", url.rsplit("/", 1)[1])


def _key(stack: Stack) -> str:
    (logical,) = stack.resources("aws_kms_key")
    return Resolver(stack).value(f"${{aws_kms_key.{logical}.arn}}")


# (service, operation) -> the requests one run makes, from its options (expanded) and the stack.
Calls = Callable[[dict[str, str], Stack], list[tuple[str, str, str | None]]]
TABLE = f"table/processed-transactions-{ENV}"
CALLS: dict[str, Calls] = {
    "aws sts get-caller-identity": lambda o, s: [],  # needs no permission
    "aws dynamodb query": lambda o, s: [
        ("dynamodb:Query", _arn("dynamodb", f"table/{o['table-name']}/index/{o['index-name']}"), None),
        ("kms:Decrypt", _key(s), "dynamodb"),
    ],
    "aws dynamodb get-item": lambda o, s: [
        ("dynamodb:GetItem", _arn("dynamodb", f"table/{o['table-name']}"), None),
        ("kms:Decrypt", _key(s), "dynamodb"),
    ],
    "aws logs filter-log-events": lambda o, s: [
        ("logs:FilterLogEvents", _arn("logs", f"log-group:{o['log-group-name']}"), None)
    ],
    "aws logs delete-log-stream": lambda o, s: [
        (
            "logs:DeleteLogStream",
            _arn("logs", f"log-group:{o['log-group-name']}:log-stream:{o['log-stream-name']}"),
            None,
        )
    ],
    "aws lambda get-function": lambda o, s: [
        ("lambda:GetFunction", _arn("lambda", f"function:{o['function-name']}"), None)
    ],
    "aws lambda get-function-configuration": lambda o, s: [
        ("lambda:GetFunctionConfiguration", _arn("lambda", f"function:{o['function-name']}"), None)
    ],
    "aws sqs get-queue-attributes": lambda o, s: [("sqs:GetQueueAttributes", _queue(o["queue-url"]), None)],
    "aws sqs receive-message": lambda o, s: [
        ("sqs:ReceiveMessage", _queue(o["queue-url"]), None),
        ("kms:Decrypt", _key(s), "sqs"),
    ],
    "aws sqs delete-message": lambda o, s: [("sqs:DeleteMessage", _queue(o["queue-url"]), None)],
    "aws sqs purge-queue": lambda o, s: [("sqs:PurgeQueue", _queue(o["queue-url"]), None)],
    "aws pipes describe-pipe": lambda o, s: [
        ("pipes:DescribePipe", _arn("pipes", f"pipe/{o['name']}"), None),
        ("kms:Decrypt", _key(s), "pipes"),
    ],
    # the stream of the transactions table: an iterator for the shard, then its records
    "aws dynamodbstreams get-records": lambda o, s: (
        [
            (action, _arn("dynamodb", f"{TABLE}/stream/2026-01-01T00:00:00.000"), None)
            for action in ("dynamodb:GetShardIterator", "dynamodb:GetRecords")
        ]
        + [("kms:Decrypt", _key(s), "dynamodb")]
    ),
    "aws scheduler get-schedule": lambda o, s: [
        ("scheduler:GetSchedule", _arn("scheduler", f"schedule/default/{o['name']}"), None),
        ("kms:Decrypt", _key(s), "scheduler"),
    ],
    "aws apigateway get-rest-apis": lambda o, s: [
        ("apigateway:GET", f"arn:aws:apigateway:{REGION}::/restapis", None)
    ],
    "aws cloudwatch get-metric-statistics": lambda o, s: [("cloudwatch:GetMetricStatistics", "*", None)],
    "aws sns list-subscriptions-by-topic": lambda o, s: [
        ("sns:ListSubscriptionsByTopic", o.get("topic-arn", "$TOPIC_ARN"), None)
    ],
    # tools/replay.py: the pending index and the touch of each record (the stream enqueues it), through
    # the key
    "make replay": lambda o, s: [
        ("dynamodb:Query", _arn("dynamodb", f"{TABLE}/index/pending-by-age"), None),
        ("kms:Decrypt", _key(s), "dynamodb"),
        ("dynamodb:UpdateItem", _arn("dynamodb", TABLE), None),
    ],
    # tools/clients.py: keys and their usage plan bindings in API Gateway, their table, the merchants
    "make clients": lambda o, s: [
        ("apigateway:GET", f"arn:aws:apigateway:{REGION}::/usageplans", None),
        ("apigateway:POST", f"arn:aws:apigateway:{REGION}::/apikeys", None),
        ("apigateway:POST", f"arn:aws:apigateway:{REGION}::/usageplans/plan/keys", None),
        ("apigateway:DELETE", f"arn:aws:apigateway:{REGION}::/apikeys/key", None),
        ("apigateway:DELETE", f"arn:aws:apigateway:{REGION}::/usageplans/plan/keys/key", None),
        *(
            (action, _arn("dynamodb", f"table/{table}-{ENV}"), None)
            for table in ("api-keys", "merchant-config")
            for action in ("dynamodb:Scan", "dynamodb:PutItem", "dynamodb:UpdateItem")
        ),
        ("kms:Decrypt", _key(s), "dynamodb"),
        ("kms:GenerateDataKey", _key(s), "dynamodb"),
    ],
}


def requests_of(command: Command, stack: Stack, role: str) -> list[Request]:
    names = Names(stack)
    assert command.name in CALLS, f"{command.text!r}: add what it calls to CALLS"
    requests = []
    for name, value in command.options.items() or [("", "")]:
        for expanded in names.expand(value):
            options = command.options | {name: expanded} if name else command.options
            for action, resource, via in CALLS[command.name](options, stack):
                for concrete in names.expand(resource):
                    requests.append(Request(role, action, concrete, via))
    return list(dict.fromkeys(requests))


# ---------- the tests ----------


@pytest.fixture(scope="module")
def configured(configured_dir: Path) -> tuple[Stack, ResourcePolicies, dict[str, list[dict] | None]]:
    stack = Stack.load(configured_dir, TRANSACTION_STACK)
    backend = Stack.load(configured_dir, STATE_BACKEND_STACK)
    (operator_policy,) = stack.resources("aws_iam_policy").values()
    operator = Resolver(stack).statements(operator_policy["policy"])
    identities = {"operator": operator, "clients": None, "deploy": None}
    return stack, ResourcePolicies.of(stack, backend), identities


ROLES = {"operator": OPERATOR_ROLE, "clients": CLIENTS_ROLE, "deploy": DEPLOY_ROLE}


def test_every_command_names_a_known_principal():
    commands = runbook_commands()
    assert len(commands) > 30
    unnamed = [c.text for c in commands if c.principal not in PRINCIPALS]
    assert unnamed == []


def test_local_commands_talk_to_make_local_only():
    for command in runbook_commands():
        if command.principal == "local":
            local = (
                "--endpoint-url http://127.0.0.1:5000" in command.line or command.name == "make clients-local"
            )
            assert local, command.line


def test_every_runbook_command_is_allowed_to_its_principal(configured):
    stack, policies, identities = configured
    refused = []
    checked = 0
    for command in runbook_commands():
        if command.principal == "local":
            continue
        role = ROLES[command.principal]
        for request in requests_of(command, stack, role):
            decision, reason = decide(
                request, identity=identities[command.principal], resource_policies=policies, region=REGION
            )
            checked += 1
            if decision != ALLOW:
                refused.append(
                    f"{command.principal}: {command.text} -> {request.action} {request.resource}: {reason}"
                )
    assert refused == []
    assert checked > 50


def test_replay_sends_nothing_and_no_role_sends_to_the_transactions_queue(configured, stack):
    configured_stack, policies, identities = configured
    replay = Command("operator", "make replay", {})
    assert not [
        r for r in requests_of(replay, configured_stack, OPERATOR_ROLE) if r.action.startswith("sqs:")
    ]
    assert not [s for s in identities["operator"] or [] if "sqs:SendMessage" in s["actions"]]
    # the queue is fed from the table's stream: its policy refuses a send by any role, named or not
    send = "sqs:SendMessage", _arn("sqs", f"transaction-queue-{ENV}")
    stranger = "arn:aws:iam::123456789012:role/someone-else"
    roles = [OPERATOR_ROLE, DEPLOY_ROLE, stranger]
    functions = ("Validation", "FraudDetection", "FailedTransaction", "Reconciler")
    roles += [Resolver(stack).value(stack.ref("aws_iam_role", f"{f}Function/Role", "arn")) for f in functions]
    for each in (policies, ResourcePolicies.of(stack)):
        for role in roles:
            assert decide(Request(role, *send), identity=None, resource_policies=each, region=REGION)[0] == (
                EXPLICIT_DENY
            )


def test_purging_the_async_failure_queue_is_the_operator_and_deploy_roles_alone(configured):
    _, policies, _ = configured
    purge = "sqs:PurgeQueue"
    for role, expected in (
        (OPERATOR_ROLE, ALLOW),
        (DEPLOY_ROLE, ALLOW),
        (f"{OPERATOR_ROLE}x", EXPLICIT_DENY),
    ):
        request = Request(role, purge, _arn("sqs", f"lambda-async-failures-{ENV}"))
        assert decide(request, identity=None, resource_policies=policies, region=REGION)[0] == expected
    # the operator purges nothing else
    request = Request(OPERATOR_ROLE, purge, _arn("sqs", f"transaction-queue-{ENV}"))
    assert decide(request, identity=None, resource_policies=policies, region=REGION)[0] == EXPLICIT_DENY


def test_the_operator_cannot_use_the_key_directly_nor_unmask_logs(configured):
    stack, policies, identities = configured
    direct = Request(OPERATOR_ROLE, "kms:Decrypt", _key(stack))
    assert (
        decide(direct, identity=identities["operator"], resource_policies=policies, region=REGION)[0] != ALLOW
    )
    group = _arn("logs", f"log-group:/aws/lambda/validation-lambda-{ENV}")
    unmask = Request(OPERATOR_ROLE, "logs:Unmask", group)
    assert (
        decide(unmask, identity=identities["operator"], resource_policies=policies, region=REGION)[0] != ALLOW
    )


# ---------- the evaluator itself ----------


def test_the_evaluator_reads_denies_wildcards_conditions_and_the_key_policy_delegation(configured):
    stack, policies, _ = configured
    queue = _arn("sqs", f"lambda-async-failures-{ENV}")
    identity = [{"effect": "Allow", "actions": ["sqs:Send*"], "resources": [f"arn:aws:sqs:*:{ACCOUNT}:*"]}]
    validation_role = Resolver(stack).value(stack.ref("aws_iam_role", "ValidationFunction/Role", "arn"))
    allowed = decide(
        Request(validation_role, "sqs:SendMessage", queue),
        identity=identity,
        resource_policies=policies,
        region=REGION,
    )
    assert allowed[0] == ALLOW
    # the resource policy's deny wins over the identity's allow
    transactions = Request(validation_role, "sqs:SendMessage", _arn("sqs", f"transaction-queue-{ENV}"))
    assert (
        decide(transactions, identity=identity, resource_policies=policies, region=REGION)[0] == EXPLICIT_DENY
    )
    # no identity statement: implicit deny
    assert (
        decide(
            Request(validation_role, "sqs:SendMessage", queue),
            identity=[],
            resource_policies=policies,
            region=REGION,
        )[0]
        != ALLOW
    )
    # the key through SQS is allowed by delegation; directly, or through another service, it is not
    for via, expected in (("sqs", ALLOW), (None, "implicit deny"), ("ec2", "implicit deny")):
        request = Request(validation_role, "kms:GenerateDataKey", _key(stack), via)
        assert decide(request, identity=None, resource_policies=policies, region=REGION)[0] == expected
    with pytest.raises(ValueError, match="not modelled"):
        decide(
            Request(validation_role, "sqs:SendMessage", queue),
            identity=[{"effect": "Allow", "not_actions": ["iam:*"], "resources": ["*"]}],
            resource_policies=policies,
            region=REGION,
        )


def test_the_operator_policy_fits_a_managed_policy_with_room_for_longer_names(configured):
    from tools.iam_policies import MANAGED_POLICY_MAX_CHARS

    _, _, identities = configured
    document = {"Version": "2012-10-17", "Statement": identities["operator"]}
    assert len(json.dumps(document, separators=(",", ":"))) <= MANAGED_POLICY_MAX_CHARS - 1000
