"""The clock process: sends the periodic jobs' messages on time (``python -m scripts.clock``).

The clock does no work itself; the workers do it, so a slow job never delays the clock, and every job
is idempotent, so a tick sent twice costs a query and changes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import dramatiq

import workers  # noqa: F401  (declares every actor on the broker)
from workers.dispatch import dispatch
from workers.processing_window import expire_overdue_windows
from workers.reconcile import reconcile_transactions
from workers.sweeper import sweep_deliveries

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    actor: dramatiq.Actor
    every_seconds: float


JOBS = (
    Job(expire_overdue_windows, every_seconds=10),
    Job(sweep_deliveries, every_seconds=30),
    Job(reconcile_transactions, every_seconds=60),  # without an order id: the sweep
)


def run(stop: threading.Event | None = None, jobs: tuple[Job, ...] = JOBS) -> None:
    """Send each job every ``every_seconds`` until ``stop`` is set."""
    stop = stop or threading.Event()
    due = {job: time.monotonic() for job in jobs}
    while not stop.is_set():
        now = time.monotonic()
        for job, at in due.items():
            if at <= now:
                dispatch(job.actor)
                due[job] = now + job.every_seconds
        stop.wait(max(0.0, min(due.values()) - time.monotonic()))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger.info(
        "clock started: %s", ", ".join(f"{j.actor.actor_name} every {j.every_seconds:g}s" for j in JOBS)
    )
    run()


if __name__ == "__main__":
    main()
