"""The HTTP plumbing every fake shares: a threaded server, a request log, faults.

A fake subclasses `FakeService` and implements `route`. `serve()` runs it on
127.0.0.1 in a background thread. With a TLS context the server also acts as
an HTTPS proxy for the hosts the service claims: it answers `CONNECT`, then
speaks TLS with a certificate for that host (signed by a test CA the client
is told to trust), so a client with hard-wired https:// URLs reaches it
through its ordinary proxy settings.
"""

from __future__ import annotations

import json
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Seen:
    """One request as the fake received it."""

    method: str
    host: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # when it arrived
    body: bytes = b""  # what a POST, PATCH or DELETE carried

    def json(self) -> Any:
        """The body parsed as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None

    def cookie(self, name: str) -> str | None:
        """The value of cookie `name`, if the request sent it."""
        for part in self.headers.get("cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class Response:
    """What the fake answers: status, body and headers."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None
    """Send only this many bytes of the body, then drop the connection: a transfer
    broken mid-answer (the client sees a short read against Content-Length)."""


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response, compact like the real services send it."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": "application/json", **(headers or {})})


@dataclass
class Fault:
    """An injected failure: requests matching `when` get `response`, `times` times (None: always)."""

    when: Callable[[Seen], bool]
    response: Response
    times: int | None


class FakeService:
    """A service's behaviour; subclasses implement `route`."""

    #: Hosts this service answers for when reached through its HTTPS proxy.
    hosts: tuple[str, ...] = ()
    #: Answer without Nagle's delay (TCP_NODELAY), as a venue's API does.
    no_delay: bool = False

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def fail(
        self, response: Response, *, when: Callable[[Seen], bool], times: int | None = 1
    ) -> None:
        """Answer requests matching `when` with `response`, `times` times (None: always)."""
        with self._lock:
            self._faults.append(Fault(when, response, times))

    def count(self, path: str) -> int:
        """How many requests reached `path` (prefix match), faults included."""
        return sum(1 for r in self.requests if r.path.startswith(path))

    def clear_faults(self) -> None:
        """Forget every registered fault: the service answers normally again."""
        with self._lock:
            self._faults.clear()

    def _registered(self, seen: Seen) -> Response | None:
        """Record the request and spend a matching registered fault (lock held)."""
        self.requests.append(seen)
        for fault in self._faults:
            if fault.times != 0 and fault.when(seen):
                if fault.times is not None:
                    fault.times -= 1
                return fault.response
        return None

    def answer(self, seen: Seen) -> Response:
        """Record the request, apply a matching fault, else route it."""
        with self._lock:
            fault = self._registered(seen)
        return fault if fault is not None else self.route(seen)

    def route(self, seen: Seen) -> Response:
        """The service's answer to a request."""
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real services
    timeout = 10

    def setup(self) -> None:
        # Headers and body go out in two writes; with Nagle on, the client's delayed
        # ACK holds the body back ~40 ms per response. Services that stand in for
        # latency-sensitive APIs (the trading venues) turn it off.
        self.disable_nagle_algorithm = self.server.service.no_delay  # type: ignore[misc]
        super().setup()

    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # quiet: the request log is `service.requests`

    def do_CONNECT(self) -> None:
        host = self.path.rsplit(":", 1)[0]
        tls = self.server.tls
        if tls is None or host not in self.server.service.hosts:
            self._send(Response(403, b"proxy refuses " + host.encode()))
            return
        self.send_response(200, "Connection Established")
        self.end_headers()
        # From here the tunnel carries TLS; requests inside it are served as usual.
        conn = tls.wrap_socket(self.connection, server_side=True)
        self.connection = conn
        self.rfile = conn.makefile("rb", -1)
        self.wfile = conn.makefile("wb")

    def finish(self) -> None:
        super().finish()
        if isinstance(self.connection, ssl.SSLSocket):
            # The TLS socket took over the client's file descriptor, which the
            # server only closes through the (now detached) plain socket.
            self.connection.close()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        host = (self.headers.get("Host") or url.hostname or "").split(":")[0]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(
            method=self.command,
            host=host,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        self._send(self.server.service.answer(seen))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch  # noqa: N815 - http.server's naming

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        headers = {"Content-Type": "text/plain", **response.headers}
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body[: response.cut_after])
        self.wfile.flush()
        if response.cut_after is not None:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, service: FakeService, tls: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.service = service
        self.tls = tls

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed mid-request (the trader's SIGKILL tests) resets its socket:
        # expected, and not worth a traceback on stderr.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(service: FakeService, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Run `service` on a free port; yields its base URL (http://127.0.0.1:PORT)."""
    server = _Server(service, tls)
    thread = threading.Thread(target=server.serve_forever, name=type(service).__name__, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
