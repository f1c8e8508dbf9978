"""SandboxApp: the WSGI application answering like AcceptOn's checkout host."""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit
from wsgiref.types import StartResponse, WSGIEnvironment

from . import errors
from .api import API_ROUTES
from .control import CONTROL_ROUTES, PREFIX
from .errors import STATUS_ERRORS, SandboxError
from .faults import Fault
from .request import Request, read_request
from .routing import JSON, Route, resolve
from .state import SandboxState
from .static import STATIC_DIR, find_static

logger = logging.getLogger("django_accepton.sandbox")

# A server that can close a socket without answering puts a callable under this environ key
# (SandboxServer does); the drop_connection fault needs it.
DROP_CONNECTION_KEY = "accepton_sandbox.drop_connection"
# The state's generation when the request arrived (SandboxState.reset bumps it).
GENERATION_KEY = "accepton_sandbox.generation"

_ACCESS_TOKEN = re.compile(r"(^|&)(access_token=)[^&]*")
_CORS = [("Access-Control-Allow-Origin", "*")]


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def status_line(self) -> str:
        if self.status == 0:
            # A dropped connection: the server sends nothing, but WSGI still wants a status.
            return "500 Internal Server Error"
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Unknown"
        return f"{self.status} {phrase}"


def json_response(status: int, data: JSON) -> Response:
    return Response(
        status,
        json.dumps(data).encode(),
        [("Content-Type", "application/json"), ("Cache-Control", "no-store"), *_CORS],
    )


def error_response(error: SandboxError) -> Response:
    return json_response(error.status, error.to_json())


def _foreign_control(request: Request) -> SandboxError | None:
    """Why a test-control request is refused, if it is. The controls pay tokens, reset the
    account and inject faults, and need no key: a web page a developer visits must not reach
    them. Browsers send any page's form posts and body-less fetches to any port without asking,
    with an ``Origin`` header; so a control that changes state needs a JSON body type (which a
    page can only send after a preflight, and the controls answer none) and, when a browser
    names an origin, the sandbox's own."""
    host = request.header("Host").lower()
    if not _direct(host):
        # A DNS name pointing here: DNS rebinding gives a page that name, and so the same
        # origin as this port.
        return SandboxError(
            403,
            "forbidden_host",
            "The test controls answer requests to an IP address or localhost only.",
        )
    origin = request.header("Origin")
    if origin and urlsplit(origin).netloc.lower() != host:
        # "null" (a sandboxed frame, a file) has no netloc: refused as well.
        return SandboxError(403, "forbidden_origin", "The test controls answer their own origin.")
    if request.method in ("GET", "HEAD"):
        return None
    media_type = str(request.environ.get("CONTENT_TYPE", "")).split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        return SandboxError(
            415,
            "unsupported_media_type",
            "Test controls that change state take Content-Type: application/json only.",
        )
    return None


def _direct(host: str) -> bool:
    """``host`` (a Host header) is an IP address or localhost, not a DNS name."""
    try:
        name = urlsplit(f"//{host}").hostname or ""
    except ValueError:
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _without_cors(response: Response) -> Response:
    response.headers = [
        (name, value)
        for name, value in response.headers
        if not name.lower().startswith("access-control-")
    ]
    return response


class SandboxApp:
    """A WSGI callable over a ``SandboxState``.

    Order of work for an API request: read the whole body, apply an injected fault (before any
    state is touched), route, authenticate, run, log ``(method, path, status)``.
    """

    def __init__(
        self,
        state: SandboxState | None = None,
        *,
        static_dir: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.state = state if state is not None else SandboxState()
        self.static_dir = static_dir or STATIC_DIR
        self._sleep = sleep

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        head = str(environ.get("REQUEST_METHOD", "")).upper() == "HEAD"
        if head:
            # HEAD is GET without a body; sending one would corrupt a kept-alive connection.
            environ = {**environ, "REQUEST_METHOD": "GET"}
        response = self.handle(environ)
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(response.status_line, headers)
        return [b"" if head else response.body]

    def handle(self, environ: WSGIEnvironment) -> Response:
        environ[GENERATION_KEY] = self.state.generation
        try:
            request = read_request(environ)
        except SandboxError as error:
            return error_response(error)
        if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
            refusal = _foreign_control(request)
            if refusal is not None:
                return _without_cors(error_response(refusal))
            return _without_cors(self._run(CONTROL_ROUTES, request, authenticate=False))
        if request.method == "OPTIONS":
            response = self._preflight(request)
        elif request.method == "GET" and not request.path.startswith("/v1/"):
            found = find_static(request.path, self.static_dir)
            if found is None:
                response = self._api(request)
            else:
                body, content_type = found
                response = Response(
                    200,
                    body,
                    [("Content-Type", content_type), ("Cache-Control", "no-cache"), *_CORS],
                )
        else:
            response = self._api(request)
        if response.status:
            self._record(request, response.status)
        return response

    def _api(self, request: Request) -> Response:
        fault = self.state.take_fault(request.method, request.path)
        if fault is None:
            return self._run(API_ROUTES, request, authenticate=True)
        return self._faulty(request, fault)

    def _faulty(self, request: Request, fault: Fault) -> Response:
        if fault.delay:
            # The request is still processed after the wait: a client that gave up meanwhile
            # has to reconcile, exactly as with a slow production server. Unless the state was
            # reset meanwhile: the request then belongs to a state that is gone.
            self._sleep(fault.delay)
            if request.environ.get(GENERATION_KEY) != self.state.generation:
                return Response(503, b"", [("Content-Type", "application/json")])
        if fault.drop_connection:
            drop = request.environ.get(DROP_CONNECTION_KEY)
            if callable(drop):
                drop()
                self._record(request, 0)
                # Status 0 tells ``handle`` the request is already logged; nothing is sent.
                return Response(0)
            return error_response(
                SandboxError(
                    500,
                    "internal_server_error",
                    "drop_connection needs a server that can drop connections (SandboxServer).",
                )
            )
        if (
            fault.status == 503
            and request.method != "GET"
            and self.state.dialect.write_503 == "after"
        ):
            # Dialect ``write_503=after``: the application did the work, the answer was lost.
            self._run(API_ROUTES, request, authenticate=True)
        if fault.status is not None:
            error_type, message = STATUS_ERRORS.get(
                fault.status, ("error", f"Injected HTTP {fault.status}.")
            )
            return error_response(
                SandboxError(fault.status, fault.error_type or error_type, fault.message or message)
            )
        response = self._run(API_ROUTES, request, authenticate=True)
        if fault.malformed_json:
            # Any proper prefix of a JSON object is invalid JSON.
            response.body = response.body[: max(1, len(response.body) // 2)]
        return response

    def _run(self, routes: list[Route], request: Request, *, authenticate: bool) -> Response:
        resolved = resolve(routes, request.method, request.path, self.state)
        if resolved is None:
            return error_response(
                errors.not_found(
                    "not_found", f"Unrecognized request URL ({request.method} {request.path})."
                )
            )
        matched, args = resolved
        try:
            request.parse_body()
            if authenticate:
                role = self.state.key_role(request.api_key())
                if role is None or (role == "public" and not matched.public):
                    # Never echo the key: a 401 body may end up in a log.
                    raise SandboxError(401, "unauthorized", errors.INVALID_API_KEY)
            status, data = matched.handler(self.state, request.params, args)
        except SandboxError as error:
            return error_response(error)
        except Exception:
            logger.exception("Sandbox error on %s %s", request.method, request.path)
            return error_response(SandboxError(500, "internal_server_error", STATUS_ERRORS[500][1]))
        return json_response(status, data)

    def _preflight(self, request: Request) -> Response:
        asked = request.header("Access-Control-Request-Headers")
        return Response(
            204,
            b"",
            [
                *_CORS,
                ("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS"),
                ("Access-Control-Allow-Headers", asked or "Authorization, Content-Type, Accept"),
                ("Access-Control-Max-Age", "600"),
            ],
        )

    def _record(self, request: Request, status: int) -> None:
        query = _ACCESS_TOKEN.sub(r"\1\2[redacted]", request.query_string)
        self.state.record_request(
            request.method,
            request.path,
            status,
            query,
            generation=request.environ.get(GENERATION_KEY),
        )
