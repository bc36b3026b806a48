"""Group commit: the writes a worker process's greenlets make at the same moment, as one statement.

Every delivery begins with a write (its claim) and ends with one (its attempt's log line and the
delivery's next state). Under load hundreds of greenlets start and finish within the same milliseconds,
and each write costs the database a statement and a commit. A ``GroupCommit`` lets the first writer
write alone; writers arriving while it does queue, and the first of them writes for all the queued ones
once the statement in flight is done. An idle worker waits for no one (a batch of one), and a busy one
sends fewer, larger statements. Each writer takes the next batch in turn, so no greenlet is kept writing
for others for long. A batch the database refuses is written again item by item, so that one bad item
fails only its own writer, as it would have written alone; where no item can be refused alone (Redis
acknowledgements), a failed batch fails each of its writers with its error instead.

The primitives are ``threading``'s: gevent patches them into greenlet ones in the worker, and they
stay real threads' in the one-process ``make run`` and in the tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class WriterStopped(RuntimeError):
    """The greenlet writing this item's batch was stopped mid-write: whether it was written is unknown."""


class _Waiter(Generic[Item, Result]):
    __slots__ = ("answered", "done", "error", "item", "leads", "result")

    def __init__(self, item: Item):
        self.item = item
        self.done = threading.Event()
        self.answered = False
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.leads = False  # woken to write the next batch, not with its result


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self,
        write: Callable[[Sequence[Item]], list[Result]],
        max_batch: int = 256,
        retry_items_alone: bool = True,
    ):
        self._write = write
        self._max_batch = max_batch
        self._retry_items_alone = retry_items_alone
        self._lock = threading.Lock()
        self._queued: list[_Waiter[Item, Result]] = []
        self._writing = False

    def submit(self, item: Item) -> Result:
        """Write ``item`` with whatever else is queued; its result, or the exception writing it raised."""
        waiter: _Waiter[Item, Result] = _Waiter(item)
        with self._lock:
            self._queued.append(waiter)
            leads = not self._writing
            self._writing = True
        if not leads:
            try:
                waiter.done.wait()
            except BaseException:  # stopped while queued: the queue must not wait on it
                self._abandon(waiter)
                raise
            if not waiter.leads:
                return self._outcome(waiter)
        self._write_next_batch(waiter)
        return self._outcome(waiter)

    def _abandon(self, waiter: _Waiter[Item, Result]) -> None:
        with self._lock:
            if waiter in self._queued:
                self._queued.remove(waiter)
                if waiter.leads:
                    self._pass_on()

    def _pass_on(self) -> None:
        """Wake the next writer to write the queue, or let the next arrival write at once (lock held)."""
        if self._queued:
            self._queued[0].leads = True
            self._queued[0].done.set()
        else:
            self._writing = False

    def _write_next_batch(self, writer: _Waiter[Item, Result]) -> None:
        with self._lock:
            batch, self._queued = self._queued[: self._max_batch], self._queued[self._max_batch :]
        try:
            self._answer(batch)
        except BaseException:
            # The writer itself was stopped (the worker shutting down). The stop is its own; the others
            # fail as they would had the database gone, and their messages are retried. Never queued
            # again: one of them may have been stopped too, and would stall the queue as its writer.
            for waiter in batch:
                if waiter is not writer and not waiter.answered:
                    waiter.error = WriterStopped()
            raise
        finally:
            with self._lock:
                self._pass_on()
            for waiter in batch:
                waiter.leads = False
                waiter.done.set()

    def _answer(self, batch: list[_Waiter[Item, Result]]) -> None:
        """Write the batch; when that fails, each item alone, so that an item the database refuses
        fails only its own writer (and a database that is down fails each with its own error)."""
        try:
            results = self._write([waiter.item for waiter in batch])
        except Exception as exc:
            if len(batch) == 1 or not self._retry_items_alone:
                for waiter in batch:
                    waiter.error, waiter.answered = exc, True
                return
            for waiter in batch:
                try:
                    (waiter.result,) = self._write([waiter.item])
                except Exception as alone:
                    waiter.error = alone
                waiter.answered = True
            return
        for waiter, result in zip(batch, results, strict=True):
            waiter.result, waiter.answered = result, True

    @staticmethod
    def _outcome(waiter: _Waiter[Item, Result]) -> Result:
        if waiter.error is not None:
            raise waiter.error
        return waiter.result  # type: ignore[return-value]
