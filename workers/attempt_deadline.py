"""A whole attempt's deadline in threads, where ``gevent.Timeout`` is not available.

Under gevent (the worker dyno) a ``gevent.Timeout`` interrupts an attempt wherever it waits. A thread
cannot be interrupted, and a socket's own timeout bounds each wait, not their sum: a partner that
trickles its answer a byte a second never trips it. So in threads (``make run``, the test suite) one
watchdog thread keeps every attempt's deadline, and when one passes it shuts down the socket that
attempt is using. Whatever the attempt's thread is waiting for (its body to be sent, the status line,
a header, the body) ends at once with an error, and ``passed()`` tells the attempt why.

The socket is shut down, not closed: closing a file descriptor another thread is using may hand the
number to a new socket before that thread notices. The owner closes it, as after any failed request.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Deadline:
    """One attempt's deadline, and the socket it is using."""

    __slots__ = ("_lock", "_over", "_socket", "at", "passed")

    def __init__(self, at: float) -> None:
        self.at = at
        self.passed = False
        self._socket: socket.socket | None = None
        self._over = False  # the attempt has ended; its connection may be serving another one
        self._lock = threading.Lock()

    def guard(self, sock: socket.socket) -> None:
        with self._lock:
            if self.passed:
                _shut_down(sock)
            elif not self._over:
                self._socket = sock

    def expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self.passed = True
            if self._socket is not None:
                _shut_down(self._socket)

    def end(self) -> None:
        with self._lock:
            self._over = True
            self._socket = None


def _shut_down(sock: socket.socket) -> None:
    # socket.socket's own shutdown, even for a TLS socket: SSLSocket's would first drop its TLS state,
    # which the attempt's thread may be in the middle of using. OSError: already closed.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One thread that expires deadlines in order. Attempts that end early leave theirs in the heap;
    they expire as no-ops, which costs less than finding and removing them."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()  # ties broken by arrival; Deadlines do not compare
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, deadline: Deadline) -> None:
        with self._changed:
            heapq.heappush(self._heap, (deadline.at, next(self._order), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="attempt-deadlines", daemon=True)
                self._thread.start()
            if self._heap[0][2] is deadline:  # sooner than what the watchdog is waiting for
                self._changed.notify()

    def _run(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    heapq.heappop(self._heap)[2].expire()
                self._changed.wait(self._heap[0][0] - now if self._heap else None)

    def forget_thread(self) -> None:
        """In a forked child, the watchdog's thread did not come along; the next deadline starts one."""
        self._heap.clear()
        self._changed = threading.Condition()
        self._thread = None


_watchdog = _Watchdog()
os.register_at_fork(after_in_child=_watchdog.forget_thread)
_current = threading.local()


@contextmanager
def watching(seconds: float) -> Iterator[Deadline]:
    """Shut down the socket of this thread's attempt once ``seconds`` have passed."""
    deadline = Deadline(time.monotonic() + seconds)
    _watchdog.add(deadline)
    _current.deadline = deadline
    try:
        yield deadline
    finally:
        _current.deadline = None
        deadline.end()


def passed() -> bool:
    """Whether this thread's attempt has run out of time (never, outside ``watching``)."""
    deadline: Deadline | None = getattr(_current, "deadline", None)
    return deadline is not None and deadline.passed


def _guard(sock: socket.socket | None) -> None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None and sock is not None:
        deadline.guard(sock)


class ShutAtDeadline:
    """A urllib3 connection whose socket the current thread's deadline may shut down: a new
    connection once it is made, a kept-alive one as a request begins on it."""

    sock: socket.socket | None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _guard(self.sock)

    def request(self, *args: object, **kwargs: object) -> None:
        _guard(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]
