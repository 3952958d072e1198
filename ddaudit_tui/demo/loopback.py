"""The fake Datadog API on a real socket: 127.0.0.1, an ephemeral port, HTTP/1.1 with keep-alive.

A threaded stdlib HTTP server that hands every request to `FakeDatadog.handle` — the same dispatch the
in-process transport uses — so integration tests exercise the client's real socket path (connection
pooling, timeouts, resets). Transport faults become real ones here: a "timeout" stalls without answering,
a "reset" closes the socket with a TCP RST.

The server knows the fake only through `ServedApi` (below), which this module owns: `fake_datadog` and
this module do not import each other, in either direction.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


class Answer(Protocol):
    """What the fake answers one request with (`fake_datadog.Outcome`): a response, or a transport
    failure to act out (`action` "timeout" / "reset" / "trickle", pausing `sleep_s`)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    action: str | None
    sleep_s: float


class ServedApi(Protocol):
    """What the server needs of the fake it serves (`fake_datadog.FakeDatadog`)."""

    latency_s: float

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes, base_url: str) -> Answer: ...


# -- loopback server ----------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    # Headers and body leave in separate writes: with Nagle's algorithm on, the body then waits for the
    # client's delayed ACK (~40 ms per response), which no real API server makes its clients wait.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return None  # tests stay quiet

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = f"http://{self.server.server_address[0]}:{self.server.server_address[1]}"
        fake = self.server.fake
        if fake.latency_s > 0:
            time.sleep(fake.latency_s)
        outcome = fake.handle(self.command, self.path, self.headers, body, host)
        if outcome.action == "timeout":
            time.sleep(outcome.sleep_s or 2.0)
            self._drop(reset=False)
            return
        if outcome.action == "reset":
            self._drop(reset=True)
            return
        self.send_response(outcome.status)
        for name, value in outcome.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(outcome.body)))
        self.end_headers()
        if outcome.action == "trickle":
            self._trickle(outcome.body, outcome.sleep_s)
            return
        if outcome.body:
            self.wfile.write(outcome.body)

    def _trickle(self, body: bytes, pause_s: float) -> None:
        """One byte, a pause, the next byte: every read succeeds, the answer takes forever."""
        self.close_connection = True
        try:
            self.wfile.flush()
            for i in range(len(body)):
                time.sleep(pause_s)
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
        except OSError:
            pass  # the client gave up: that is the point

    def _drop(self, reset: bool) -> None:
        self.close_connection = True
        try:
            if reset:  # SO_LINGER 0: close() sends a TCP RST instead of a clean FIN
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def finish(self) -> None:
        with contextlib.suppress(OSError):  # the connection was dropped on purpose
            super().finish()

    do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops the SYN of a 7th simultaneous connect, which the client
    # resends after 1 s: concurrent slices would stall on the fake's listen queue, never on Datadog's.
    request_queue_size = 128
    fake: ServedApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (a fetch aborted by a 403 on another slice) is ordinary for a
        # server; socketserver would print a traceback into the client's test output. Real bugs still print.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


def start_loopback(fake: ServedApi, port: int = 0) -> tuple[str, Callable[[], None]]:
    """Serve `fake` on 127.0.0.1 (an ephemeral port by default). Returns (base_url, stop)."""
    server = _Server(("127.0.0.1", port), _Handler)
    server.fake = fake
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    host, bound_port = server.server_address[:2]
    stopped = threading.Event()

    def stop() -> None:
        if stopped.is_set():
            return
        stopped.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://{host}:{bound_port}", stop


@contextmanager
def loopback(fake: ServedApi, port: int = 0) -> Iterator[str]:
    """`with loopback(fake) as base_url:` — the fake on a real socket for the duration of the block."""
    base_url, stop = start_loopback(fake, port)
    try:
        yield base_url
    finally:
        stop()
