"""Log lines written in batches: a worker process's lines reach its stream a few at a time, not one by one.

A ``dramatiq workers`` process does not write to stdout itself: each line travels through a pipe to the
parent process, which reads it and writes it out, a system call or two on each side. A busy worker logs
one line per webhook attempt, and a ``py-spy`` profile put that relay at a tenth of the worker's CPU
(docs/PERFORMANCE.md). Here a line waits at most ``interval`` seconds to travel with the others of its
moment; a warning or an error goes at once, with everything before it, so that nothing is reordered
and a failure is never late. Every line still reaches the stream: when the worker stops, the handler
writes what it holds and every line after it at once (``stop_batching``), since Dramatiq closes the
pipe and ends the process without the interpreter's exit hooks. Only a process killed outright loses
its last ``interval`` of lines (informational ones), as it loses whatever it had in flight.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TextIO


class BatchedStreamHandler(logging.StreamHandler):
    # Lines held at most this long, and at most this many at once.
    INTERVAL_SECONDS = 0.05
    MAX_LINES = 512

    def __init__(self, stream: TextIO, interval: float = INTERVAL_SECONDS, max_lines: int = MAX_LINES):
        super().__init__(stream)
        self.interval = interval
        self.max_lines = max_lines
        self._pending: list[str] = []
        self._has_lines = threading.Event()
        self._batching = True
        self._closed = False
        # Sleeps until there is something to write: an idle process does not wake up for its logs.
        threading.Thread(target=self._write_periodically, name="log-batches", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        # Called with the handler's lock held (Handler.handle).
        try:
            self._pending.append(self.format(record) + self.terminator)
            if (
                not self._batching
                or record.levelno >= logging.WARNING
                or len(self._pending) >= self.max_lines
            ):
                self._write_pending()
            else:
                self._has_lines.set()
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        self.acquire()
        try:
            self._write_pending()
        finally:
            self.release()

    def stop_batching(self) -> None:
        """Write what is held, and every line from now on as it comes."""
        self.acquire()
        try:
            self._batching = False
            self._write_pending()
        finally:
            self.release()

    def close(self) -> None:
        self.flush()
        self._closed = True
        self._has_lines.set()  # the writing thread ends
        super().close()

    def _write_pending(self) -> None:
        if self._pending:
            lines, self._pending = "".join(self._pending), []
            self.stream.write(lines)
            self.stream.flush()

    def _write_periodically(self) -> None:
        while not self._closed:
            self._has_lines.wait()
            time.sleep(self.interval)
            self._has_lines.clear()  # before writing: a line arriving after this wakes the next round
            try:
                self.flush()
            except Exception:  # the stream failed (closed as the process stops): those lines are lost,
                continue  # as a StreamHandler's would be, and the next ones are tried again
