"""SandboxServer: the sandbox on a real port, in a background thread.

wsgiref's own request handler answers one request per connection with HTTP/1.0; this one keeps
HTTP/1.1 connections alive (as ``requests`` sessions and browsers expect), reads each body in
full so a connection never falls out of step, and can drop a connection without answering.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import socketserver
import threading
from types import TracebackType
from typing import IO, Any, Self, cast
from wsgiref.headers import Headers
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .app import DROP_CONNECTION_KEY, SandboxApp
from .dialects import Dialect
from .request import MAX_BODY_BYTES
from .state import SandboxState

logger = logging.getLogger("django_accepton.sandbox")

_WILDCARD_HOSTS = ("", "0.0.0.0")  # noqa: S104 - only to print a reachable URL


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # stop() closes live connections itself; joining their threads could wait on idle clients.
    block_on_close = False
    # A burst of concurrent test requests must not overflow the default backlog of 5.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int]) -> None:
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), which can hang for seconds without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("Sandbox connection from %s failed", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self.connections_lock:
            live = list(self.connections)
        for connection in live:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _ServerHandler(ServerHandler):
    http_version = "1.1"
    request_handler: _RequestHandler
    headers: Headers | None

    def cleanup_headers(self) -> None:
        super().cleanup_headers()
        assert self.headers is not None
        if self.request_handler.close_connection and "Connection" not in self.headers:
            self.headers["Connection"] = "close"

    def finish_response(self) -> None:
        if self.request_handler.drop_requested:
            self.close()
            return
        super().finish_response()

    def log_exception(self, exc_info: Any) -> None:
        logger.error("Sandbox application error", exc_info=exc_info)


class _RequestHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; Nagle plus delayed ACKs would stall each answer.
    disable_nagle_algorithm = True
    # Idle keep-alive connections are closed after this long, freeing their threads.
    timeout = 60
    server: _ThreadingWSGIServer
    drop_requested = False

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def handle(self) -> None:
        self.close_connection = True
        self._handle_one()
        while not self.close_connection:
            self._handle_one()

    def _handle_one(self) -> None:
        self.drop_requested = False
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            self.close_connection = True
            return
        if not self.parse_request():
            return
        if self.request_version != "HTTP/1.1" or self.headers.get("Transfer-Encoding"):
            # HTTP/1.0 peers and chunked uploads are answered once, then the connection closes.
            self.close_connection = True
        environ = self.get_environ()
        environ[DROP_CONNECTION_KEY] = self._request_drop
        stdin: Any = self.rfile
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
            self.close_connection = True
        if 0 < length <= MAX_BODY_BYTES:
            stdin = io.BytesIO(self.rfile.read(length))
        elif length > MAX_BODY_BYTES:
            self.close_connection = True
        app = self.server.get_app()
        if app is None:
            self.close_connection = True
            return
        wfile = cast("IO[bytes]", self.wfile)
        handler = _ServerHandler(stdin, wfile, self.get_stderr(), environ, multithread=True)
        handler.request_handler = self
        handler.run(app)
        if self.drop_requested:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def _request_drop(self) -> None:
        self.drop_requested = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class SandboxServer:
    """The sandbox listening on ``host:port`` (0 picks a free port) from a daemon thread.

    ``with SandboxServer() as sandbox:`` starts and stops it; ``sandbox.url`` is the base URL to
    give the client, ``sandbox.state`` the account behind it.
    """

    def __init__(
        self,
        state: SandboxState | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        public_key: str | None = None,
        secret_key: str | None = None,
        dialect: Dialect | str | None = None,
    ) -> None:
        if state is None:
            state = SandboxState(public_key=public_key, secret_key=secret_key)
        elif (public_key and public_key != state.public_key) or (
            secret_key and secret_key != state.secret_key
        ):
            raise ValueError("Pass keys either to SandboxState or to SandboxServer, not both.")
        if dialect is not None:
            state.set_dialect(dialect)
        self.state = state
        self.app = SandboxApp(state)
        self.host = host
        self._requested_port = port
        self._httpd: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def public_key(self) -> str:
        return self.state.public_key

    @property
    def secret_key(self) -> str:
        return self.state.secret_key

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("The sandbox server is not running; call start() first.")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, with no trailing slash."""
        host = "127.0.0.1" if self.host in _WILDCARD_HOSTS else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Self:
        """Bind and serve in a daemon thread; a second call is a no-op."""
        with self._lock:
            if self._httpd is not None:
                return self
            httpd = _ThreadingWSGIServer((self.host, self._requested_port))
            httpd.set_app(self.app)
            thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"accepton-sandbox:{httpd.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._httpd, self._thread = httpd, thread
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection; safe to call twice."""
        with self._lock:
            httpd, thread = self._httpd, self._thread
            self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<SandboxServer {where}>"
