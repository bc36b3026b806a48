"""The clock process: sends the periodic jobs' messages on time (``python -m scripts.clock``).

The clock does no work itself; the workers do it, so a slow job never delays the clock, and every job
is idempotent. Ticks fall on wall-clock slots (a job every 30 s ticks at :00 and :30), so two clocks
started by mistake reach the same ticks, and a lock in Redis per job and slot lets only one of them
send each: a duplicate clock doubles nothing. Without Redis (the embedded mode) there is one process
and no lock is needed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import dramatiq
import redis

import settings as settings_module
import workers  # noqa: F401  (declares every actor on the broker)
from telemetry.logs import bound_request_id, configure_logging
from workers.dispatch import dispatch
from workers.endpoint_health import disable_failing_endpoints
from workers.housekeeping import purge_dashboard_sessions, purge_idempotency_keys
from workers.processing_window import expire_overdue_windows
from workers.reconcile import reconcile_transactions
from workers.sweeper import sweep_deliveries

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    actor: dramatiq.Actor
    every_seconds: float

    @property
    def name(self) -> str:
        return self.actor.actor_name

    def slot(self, at: float) -> int:
        """Which tick ``at`` (epoch seconds) falls in; every clock counts them alike."""
        return int(at // self.every_seconds)


JOBS = (
    Job(expire_overdue_windows, every_seconds=10),
    Job(sweep_deliveries, every_seconds=30),
    Job(reconcile_transactions, every_seconds=60),  # without an order id: the sweep
    Job(disable_failing_endpoints, every_seconds=600),
    Job(purge_idempotency_keys, every_seconds=3600),
    Job(purge_dashboard_sessions, every_seconds=3600),
)


class TickLock(Protocol):
    def claim(self, job: Job, slot: int) -> bool: ...


class OneClock:
    """No Redis, so one process: every tick is this clock's."""

    def claim(self, job: Job, slot: int) -> bool:
        return True


class RedisTickLock:
    """``SET key NX PX``: the first clock to reach a tick claims it. The key outlives its slot by a minute,
    so a clock running up to a minute behind (a slow host, a skewed clock) still finds the tick taken."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.namespace = namespace
        self.owner = f"{socket.gethostname()}:{os.getpid()}"

    def claim(self, job: Job, slot: int) -> bool:
        key = f"{self.namespace}:clock:{job.name}:{slot}"
        ttl_ms = int((job.every_seconds + 60) * 1000)
        return bool(self.client.set(key, self.owner, nx=True, px=ttl_ms))


def tick_lock(settings: settings_module.Settings) -> TickLock:
    if settings.redis_url:
        timeout = settings.redis_timeout_seconds
        client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        return RedisTickLock(client, settings.redis_namespace)
    return OneClock()


# A tick whose lock Redis could not be asked for is asked for again this often, within its slot: an
# hourly job skipped for one error would wait an hour.
UNSETTLED_RETRY_SECONDS = 1.0


def tick(job: Job, slot: int, lock: TickLock) -> bool | None:
    """Send ``job`` for ``slot`` unless another clock did: True when this clock sent it, False when
    another had, None when the lock could not be asked (Redis away) and the tick is still to settle."""
    try:
        if not lock.claim(job, slot):
            return False
    except redis.RedisError:
        logger.warning("clock: no tick lock for %s; asking again", job.name, exc_info=True)
        return None
    # The tick's own request id follows its messages into the workers' log lines.
    with bound_request_id(f"clock-{job.name}-{slot}"):
        dispatch(job.actor)
    return True


def run(
    stop: threading.Event | None = None,
    jobs: tuple[Job, ...] = JOBS,
    lock: TickLock | None = None,
    now: Callable[[], float] = time.time,
) -> None:
    """Send each job once per slot until ``stop`` is set."""
    stop = stop or threading.Event()
    lock = lock or tick_lock(settings_module.load())
    settled: dict[Job, int] = {}  # the last slot each job's tick was sent, or known sent, for
    while not stop.is_set():
        moment = now()
        unsettled = False
        for job in jobs:
            slot = job.slot(moment)
            if settled.get(job) != slot:
                if tick(job, slot, lock) is None:
                    unsettled = True
                else:
                    settled[job] = slot
        wait = max(0.0, min((job.slot(moment) + 1) * job.every_seconds for job in jobs) - now())
        stop.wait(min(wait, UNSETTLED_RETRY_SECONDS) if unsettled else wait)


def main() -> None:
    settings = settings_module.load()
    configure_logging(settings.log_level)
    logger.info("clock started: %s", ", ".join(f"{j.name} every {j.every_seconds:g}s" for j in JOBS))
    run()


if __name__ == "__main__":
    main()
