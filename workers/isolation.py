"""Isolation between partners: a bulkhead of worker threads per partner, in each worker process.

A healthy partner may hold up to ``WEBHOOK_PARTNER_SHARE`` of a process's threads at once; a partner
whose last attempt here failed may hold ``WEBHOOK_FAILING_PARTNER_SLOTS``. So an endpoint that hangs
until the timeout on every request ties up one thread per process, not all of them, and the other
partners' deliveries keep flowing. A delivery that finds its healthy partner's slots taken waits a
moment for one (a healthy partner's requests end quickly, and waiting is cheaper than a trip back
through the outbox and the broker). If none comes free, or the partner is failing, it is not attempted:
it goes back to the outbox for a while (about a timeout for a failing partner) without counting an
attempt.

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
# How long a healthy partner's delivery waits for one of its slots before going back to the outbox.
SLOT_WAIT_SECONDS = 0.1


class PartnerSlots(Middleware):
    def __init__(self, share: float, failing_slots: int) -> None:
        self.share = share
        self.failing_slots = max(1, failing_slots)
        self.threads = DEFAULT_THREADS
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)
        self._in_use: Counter[str] = Counter()
        self._failing: set[str] = set()

    def before_worker_boot(self, broker, worker):
        self.threads = worker.worker_threads

    def limit(self, partner_id: str) -> int:
        if partner_id in self._failing:
            return self.failing_slots
        return max(1, int(self.threads * self.share))

    def try_acquire(self, partner_id: str, wait: float = SLOT_WAIT_SECONDS) -> bool:
        """Take one of the partner's slots, waiting up to ``wait`` for one if the partner is healthy."""
        deadline = time.monotonic() + wait
        with self._freed:
            while self._in_use[partner_id] >= self.limit(partner_id):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or partner_id in self._failing:
                    return False
                self._freed.wait(remaining)
            self._in_use[partner_id] += 1
            return True

    def release(self, partner_id: str, *, succeeded: bool) -> None:
        with self._freed:
            self._in_use[partner_id] -= 1
            if self._in_use[partner_id] <= 0:
                del self._in_use[partner_id]
            if succeeded:
                self._failing.discard(partner_id)
            else:
                self._failing.add(partner_id)
            self._freed.notify_all()

    def wait_before_retrying(self, partner_id: str, timeout: float) -> float:
        """How long a delivery that found no free slot waits: about one request's timeout for a failing
        partner (its slot frees no sooner), a moment for a busy healthy one. Jittered, so that the
        deliveries put back together do not all come back together."""
        if partner_id in self._failing:
            return timeout * random.uniform(0.5, 1.0)
        return random.uniform(0.05, 0.25)
