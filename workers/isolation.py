"""Isolation between partners: a bulkhead of worker threads (or greenlets) per partner, per process.

A healthy partner may hold up to ``WEBHOOK_PARTNER_SHARE`` of a process's threads at once; a partner
whose last attempt here failed may hold ``WEBHOOK_FAILING_PARTNER_SLOTS``. So an endpoint that hangs
until the timeout on every request ties up one thread per process, not all of them, and the other
partners' deliveries keep flowing.

A delivery that finds its partner's slots all taken waits for one while the partner is answering: its
oldest request in flight is no older than a few of its usual response times. A slow but healthy
endpoint (300 ms, say) frees a slot every few milliseconds, and waiting is far cheaper than the trip
back through the outbox and the broker. A partner that has gone quiet (its oldest request has been out
too long) or is failing gets no waiting: the delivery goes back to the outbox at once, for a moment
or, for a failing partner, about a timeout, without counting an attempt.

The count is per process, kept in memory: it costs no round trip, and a process that dies takes its
count with it (a shared counter would have to expire the slots of the dead).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

from dramatiq.middleware import Middleware

DEFAULT_THREADS = 8
# "A few of its usual response times": how long a partner's oldest request may have been out while the
# partner still counts as answering, as a multiple of its recent response time, within these bounds.
ANSWERING_FACTOR = 4
ANSWERING_MIN_SECONDS = 0.25
# A partner's recent response time: each answer moves the average this far towards itself.
SMOOTHING = 0.2


class PartnerSlots(Middleware):
    def __init__(self, share: float, failing_slots: int, timeout: float = 15.0) -> None:
        self.share = share
        self.failing_slots = max(1, failing_slots)
        self.timeout = timeout
        self.threads = DEFAULT_THREADS
        self._lock = threading.Lock()
        # One condition per partner, all on the one lock: a freed slot wakes a waiter for that partner
        # only, and one of them (waking every waiter of every partner, or polling, costs CPU in
        # proportion to the hundreds of greenlets waiting on slow endpoints).
        self._freed: dict[str, threading.Condition] = {}
        self._in_use: Counter[str] = Counter()
        self._started: dict[str, list[float]] = {}
        self._response_time: dict[str, float] = {}
        self._failing: set[str] = set()

    def before_worker_boot(self, broker, worker):
        self.threads = worker.worker_threads

    def limit(self, partner_id: str) -> int:
        if partner_id in self._failing:
            return self.failing_slots
        return max(1, int(self.threads * self.share))

    def patience(self, partner_id: str) -> float:
        """How long the partner's oldest request may be out while the partner counts as answering."""
        usual = self._response_time.get(partner_id, 0.0)
        return min(max(ANSWERING_FACTOR * usual, ANSWERING_MIN_SECONDS), self.longest_wait)

    @property
    def longest_wait(self) -> float:
        """The longest ``acquire`` waits for a slot: half the request's timeout."""
        return self.timeout / 2

    def _answering(self, partner_id: str, now: float) -> bool:
        started = self._started[partner_id]
        return partner_id not in self._failing and (
            not started or now - started[0] < self.patience(partner_id)
        )

    def acquire(self, partner_id: str) -> float | None:
        """One of the partner's slots, waiting for it while the partner is answering; the token to
        release it with, or None when the delivery should go back to the outbox."""
        deadline = time.monotonic() + self.patience(partner_id)
        with self._lock:
            while self._in_use[partner_id] >= self.limit(partner_id):
                now = time.monotonic()
                if now >= deadline or not self._answering(partner_id, now):
                    return None
                # A partner that stops answering is noticed by newcomers at once and by those
                # already waiting at their deadline, within the same patience.
                self._condition(partner_id).wait(deadline - now)
            self._in_use[partner_id] += 1
            token = time.monotonic()
            self._started.setdefault(partner_id, []).append(token)
            return token

    def _condition(self, partner_id: str) -> threading.Condition:
        condition = self._freed.get(partner_id)
        if condition is None:
            condition = self._freed[partner_id] = threading.Condition(self._lock)
        return condition

    def release(self, partner_id: str, token: float, *, succeeded: bool) -> None:
        with self._lock:
            recovered = succeeded and partner_id in self._failing
            self._in_use[partner_id] -= 1
            if self._in_use[partner_id] <= 0:
                del self._in_use[partner_id]
            started = self._started[partner_id]
            started.remove(token)
            if not started:
                del self._started[partner_id]
            if succeeded:
                self._failing.discard(partner_id)
                took = time.monotonic() - token
                previous = self._response_time.get(partner_id, took)
                self._response_time[partner_id] = previous + SMOOTHING * (took - previous)
            else:
                self._failing.add(partner_id)
            condition = self._freed.get(partner_id)
            if condition is not None:
                if recovered:  # its whole share is back, not one slot
                    condition.notify_all()
                else:
                    condition.notify()

    def wait_before_retrying(self, partner_id: str, timeout: float) -> float:
        """How long a delivery that found no free slot waits: about one request's timeout for a failing
        partner (its slot frees no sooner), a moment for a busy healthy one. Jittered, so that the
        deliveries put back together do not all come back together."""
        if partner_id in self._failing:
            return timeout * random.uniform(0.5, 1.0)
        return random.uniform(0.05, 0.25)
