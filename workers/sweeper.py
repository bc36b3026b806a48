"""The sweeper: re-sends the wake-ups the broker lost, so that no delivery waits for ever.

The clock runs it periodically and every worker runs it when it starts. It sends a message for each
delivery that has been due for longer than the grace period, or whose worker died mid-attempt (its
lease lapsed), and releases each delivery held for an endpoint that is enabled again. A delivery in
flight under a live lease is not touched, and a delivery whose message was not lost after all is
claimed by one of the two messages only.
"""

from __future__ import annotations

import logging

import dramatiq
from dramatiq.middleware import Middleware

from models import redelivery
from workers.broker import broker, settings
from workers.delivery import send_now
from workers.dispatch import dispatch

BATCH = 1000
logger = logging.getLogger(__name__)


@dramatiq.actor(actor_name="sweep_deliveries", queue_name="maintenance", max_retries=3)
def sweep_deliveries(grace_seconds: float | None = None) -> None:
    """Idempotent: it only sends wake-ups, and a wake-up for a delivery not due claims nothing."""
    grace = settings.sweeper_grace_seconds if grace_seconds is None else grace_seconds
    overdue = redelivery.overdue(grace_seconds=grace, limit=BATCH) + redelivery.release_stranded(limit=BATCH)
    send_now(overdue)  # in one round trip; if the broker stays away, the next sweep sends them again
    if overdue:
        # Returned values are dropped by Dramatiq (with a warning each time): say it in the log instead.
        logger.warning("re-sent %d overdue deliveries", len(overdue), extra={"count": len(overdue)})


class SweepOnBoot(Middleware):
    """A worker that starts sweeps first: whatever the last one left in flight goes out again."""

    def after_worker_boot(self, broker, worker):
        dispatch(sweep_deliveries)


broker.add_middleware(SweepOnBoot())
