"""A partner's webhook endpoint for tests: a real HTTP server on 127.0.0.1 that can be told to misbehave.

with Receiver() as receiver:
    receiver.will(Respond(500), Respond(500))   # the next two requests fail, then 200s again
    receiver.always(Stall(5))                   # every request hangs for five seconds
    received = receiver.wait_for(3)             # the first three requests it got
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Respond:
    status: int = 200
    body: bytes = b'{"received": true}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Stall:
    """Hold the request open, answering nothing, for ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class Reset:
    """Drop the connection without answering."""


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._script: deque = deque()
        self._default: Respond | Stall | Reset = Respond()
        self._lock = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks"

    def will(self, *behaviours) -> None:
        """Answer the next requests so, one behaviour each, then go back to the default."""
        with self._lock:
            self._script.extend(behaviours)

    def always(self, behaviour) -> None:
        with self._lock:
            self._default = behaviour

    def _next_behaviour(self):
        with self._lock:
            return self._script.popleft() if self._script else self._default

    def _record(self, request: Received) -> None:
        with self._lock:
            self.received.append(request)
            self._lock.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} webhook(s), received {len(self.received)}")
                self._lock.wait(remaining)
            return list(self.received[:count])

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver._record(Received(self.path, headers, body, time.monotonic()))
                behaviour = receiver._next_behaviour()
                if isinstance(behaviour, Reset):
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if isinstance(behaviour, Stall):
                    time.sleep(behaviour.seconds)
                    self.close_connection = True
                    return
                time.sleep(behaviour.delay)
                self.send_response(behaviour.status)
                for name, value in behaviour.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(behaviour.body)))
                self.end_headers()
                self.wfile.write(behaviour.body)

            def log_message(self, format, *args):
                pass

        return Handler

    def __enter__(self) -> Receiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
