"""The HTTP API, behaving like the deployed API Gateway REST stage in front of the Lambda proxy.

Per request, in API Gateway's order: route match (unknown route or method: 403
``MISSING_AUTHENTICATION_TOKEN``), API key (403 ``INVALID_API_KEY`` unless an enabled key of a client's
usage plan, read from API Gateway in moto: ``local.api_keys``), usage plan (429 ``THROTTLED`` /
``QUOTA_EXCEEDED``), payload hard limit (413 ``REQUEST_TOO_LARGE``), request validation against the
method's model when its validator checks bodies (400 ``BAD_REQUEST_BODY``), then a REST proxy event to
the function and its proxy response back (502 ``DEFAULT_5XX`` when the function fails or answers a
malformed response; ``INTEGRATION_FAILURE`` when Lambda throttles it beyond its reserved concurrency).
Every refusal of its own is answered from the stack's gateway responses (``handlers.gateway_responses``,
the same rows the stack deploys), with ``request_id`` equal to the ``x-amzn-RequestId`` header. Routes,
stage, key requirement, model and limits come from the stack.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import fastjsonschema

from card_transactions.handlers.gateway_responses import GATEWAY_RESPONSE
from local.api_keys import KeyLookup
from local.config import HOST
from local.events import proxy_event
from local.functions import FunctionThrottled, LocalFunction
from local.stack import ApiSpec, RouteSpec
from local.throttle import UsagePlan

API_GATEWAY_MAX_PAYLOAD = 10 * 1024 * 1024  # REST API hard limit; the function enforces its own smaller one
STATUS_PATH = "/_local/status"


class _Route:
    def __init__(self, spec: RouteSpec) -> None:
        self.spec = spec
        pattern = re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(spec.path))
        self.regex = re.compile(f"^{pattern}$")
        validates = spec.validates_body and spec.body_schema is not None
        self.validate = fastjsonschema.compile(dict(spec.body_schema or {})) if validates else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 resets connections under concurrent clients


class GatewayError(Exception):
    """A refusal of the gateway: its response type, and (for the defaults) API Gateway's status and
    message, and the ``x-amzn-ErrorType`` API Gateway sends with it."""

    def __init__(self, response_type: str, error_type: str, status: int = 0, message: str = "") -> None:
        response = GATEWAY_RESPONSE[response_type]
        super().__init__(message or response.message)
        self.response = response
        self.status = int(response.status) if response.status is not None else status
        self.message = message
        self.error_type = error_type
        if not self.status:
            raise ValueError(f"{response_type} needs the status of the error")

    def answer(self, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        body = json.dumps(self.response.body(request_id, self.message)).encode()
        headers = [*self.response.all_headers.items(), ("x-amzn-ErrorType", self.error_type)]
        return self.status, [("x-amzn-RequestId", request_id), *headers], body


class Gateway:
    def __init__(
        self,
        api: ApiSpec,
        functions: Mapping[str, LocalFunction],
        *,
        keys: KeyLookup,
        port: int,
        openapi: Callable[[str], dict[str, Any]],
        status: Callable[[], dict[str, Any]],
        access_log: bool = True,
    ) -> None:
        self.api = api
        self.stage = api.stage
        self._routes = [_Route(r) for r in api.routes]
        self._functions = functions
        # API Gateway admits only enabled keys of a usage plan of the stage, each under its plan's limits
        self._keys = keys
        self._plans = {
            client.name: UsagePlan(
                client.usage_plan.rate_limit,
                client.usage_plan.burst_limit,
                client.usage_plan.quota_limit,
                client.usage_plan.quota_period,
            )
            for client in api.clients
        }
        self._openapi = openapi
        self._status = status
        self._access_log = access_log
        try:
            self._server = _Server((HOST, port), self._handler_class())
        except OSError as exc:
            raise OSError(
                f"{HOST}:{port} is in use ({exc.strerror}); set LOCAL_API_PORT to another port"
            ) from None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/{self.stage}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ---------------------------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "local-apigateway"
            # Headers and body go out in two writes; with Nagle on, the body waits for the client's
            # delayed ACK (~40 ms per request on Linux).
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                started = time.monotonic()
                status, headers, body = gateway.handle(self)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                if gateway._access_log and not self.path.startswith("/_local/"):
                    elapsed = (time.monotonic() - started) * 1000
                    resource = gateway.resource_of(self.command, self.path)
                    print(f"[api] {self.command} {resource} -> {status} ({elapsed:.0f} ms)", flush=True)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

            def __getattr__(self, name: str) -> Any:
                """Any other method (TRACE, PROPFIND, ...) is served too: like API Gateway, the route
                match refuses it in the API's error shape (not http.server's 501 HTML page)."""
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

        return Handler

    def handle(self, request: BaseHTTPRequestHandler) -> tuple[int, list[tuple[str, str]], bytes]:
        request_id = str(uuid.uuid4())
        try:
            return self._handle(request, request_id)
        except GatewayError as exc:
            return exc.answer(request_id)

    def _handle(
        self, request: BaseHTTPRequestHandler, request_id: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        split = urlsplit(request.path)
        method = request.command.upper()
        body = self._read_body(request)  # first: an unread body would corrupt a kept-alive connection
        if method == "GET" and split.path == STATUS_PATH:
            return 200, [("Content-Type", "application/json")], json.dumps(self._status()).encode()
        if method == "GET" and split.path == f"/{self.stage}/openapi.json":
            document = self._openapi(self.url)
            return 200, [("Content-Type", "application/json")], json.dumps(document, indent=2).encode()
        route, parameters, resource_path = self._match(method, split.path)
        api_key = request.headers.get("x-api-key")
        admitted = None
        if route.spec.api_key_required:
            admitted = self._keys.find(api_key) if api_key else None
            if api_key is None or admitted is None:
                raise GatewayError("INVALID_API_KEY", "ForbiddenException")
            refusal = self._plans[admitted.client].admit(api_key)
            if refusal is not None:
                raise GatewayError(refusal, "TooManyRequestsException")
        if route.validate is not None and not self._valid(route.validate, body):
            raise GatewayError("BAD_REQUEST_BODY", "BadRequestException")
        function = self._functions[route.spec.function]
        event = proxy_event(
            method=method,
            resource=route.spec.path,
            path=resource_path,
            stage=self.stage,
            headers=list(request.headers.items()),
            query=parse_qs(split.query, keep_blank_values=True),
            path_parameters=parameters or None,
            body=body,
            source_ip=request.client_address[0],
            api_key=api_key if admitted else None,
            api_key_id=admitted.key_id if admitted else None,
            request_id=request_id,
            host=request.headers.get("Host") or f"{HOST}:{self.port}",
        )
        try:
            response = function.invoke(event)
        except FunctionThrottled as exc:  # Lambda's 429 is API Gateway's INTEGRATION_FAILURE
            print(f"[api] {exc}", file=sys.stderr, flush=True)
            raise GatewayError("INTEGRATION_FAILURE", "InternalServerErrorException") from None
        except Exception as exc:  # a function error: API Gateway answers 502
            print(f"[api] {function.name} raised {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            raise GatewayError("DEFAULT_5XX", "InternalServerErrorException", 502) from None
        return self._proxy_response(response, request_id)

    def resource_of(self, method: str, path: str) -> str:
        """The route a request matched (``/transaction/{transaction_id}``), "-" for none: like the
        stack's access log (``$context.resourcePath``), never the path as sent, which may carry anything."""
        try:
            route, _, _ = self._match(method.upper(), urlsplit(path).path)
        except GatewayError:
            return "-"
        return route.spec.path

    def _match(self, method: str, path: str) -> tuple[_Route, dict[str, str], str]:
        prefix = f"/{self.stage}"
        if not (path == prefix or path.startswith(prefix + "/")):
            raise GatewayError("MISSING_AUTHENTICATION_TOKEN", "MissingAuthenticationTokenException")
        resource_path = path[len(prefix) :] or "/"
        if len(resource_path) > 1 and resource_path.endswith("/"):
            resource_path = resource_path[:-1]
        for route in self._routes:
            match = route.regex.match(resource_path)
            if match and route.spec.method == method:
                return route, {k: unquote(v) for k, v in match.groupdict().items()}, unquote(resource_path)
        raise GatewayError("MISSING_AUTHENTICATION_TOKEN", "MissingAuthenticationTokenException")

    @staticmethod
    def _read_body(request: BaseHTTPRequestHandler) -> bytes | None:
        length_header = request.headers.get("Content-Length")
        if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise GatewayError("DEFAULT_4XX", "BadRequestException", 411, "Length Required")
        try:
            length = int(length_header or 0)
        except ValueError:
            raise GatewayError("DEFAULT_4XX", "BadRequestException", 400, "Bad Request") from None
        if length > API_GATEWAY_MAX_PAYLOAD:
            request.close_connection = True
            raise GatewayError("REQUEST_TOO_LARGE", "RequestTooLongException")
        return request.rfile.read(length) if length > 0 else None

    @staticmethod
    def _valid(validate: Callable[[Any], Any], body: bytes | None) -> bool:
        try:
            validate(json.loads(body or b""))
        except (ValueError, fastjsonschema.JsonSchemaException, RecursionError):
            return False
        return True

    @staticmethod
    def _proxy_response(response: Any, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            if not isinstance(response, dict):
                raise TypeError("not an object")
            status = int(response["statusCode"])
            headers = [(k, str(v)) for k, v in (response.get("headers") or {}).items()]
            for name, values in (response.get("multiValueHeaders") or {}).items():
                headers += [(name, str(v)) for v in values]
            raw = response.get("body") or ""
            if not isinstance(raw, str):
                raise TypeError("body must be a string")
            body = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode("utf-8")
        except (TypeError, ValueError, KeyError) as exc:
            print(f"[api] malformed Lambda proxy response: {exc!r}", file=sys.stderr, flush=True)
            raise GatewayError("DEFAULT_5XX", "InternalServerErrorException", 502) from None
        names = {k.lower() for k, _ in headers}
        headers.append(("x-amzn-RequestId", request_id))
        if "content-type" not in names:
            headers.append(("Content-Type", "application/json"))
        return status, headers, body
