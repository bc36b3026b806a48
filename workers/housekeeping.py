"""Housekeeping on the clock: forgetting what has expired."""

from __future__ import annotations

import logging
from datetime import timedelta

import dramatiq

from models import dashboard_sessions, idempotency
from workers.broker import settings

logger = logging.getLogger(__name__)


@dramatiq.actor(actor_name="purge_idempotency_keys", queue_name="maintenance", max_retries=3)
def purge_idempotency_keys() -> None:
    """Idempotent: deletes every key past its lifetime, a batch at a time."""
    purged = idempotency.purge_expired(timedelta(seconds=settings.idempotency_key_ttl_seconds))
    if purged:
        logger.info("purged %d expired idempotency key(s)", purged, extra={"count": purged})


@dramatiq.actor(actor_name="purge_dashboard_sessions", queue_name="maintenance", max_retries=3)
def purge_dashboard_sessions() -> None:
    """Idempotent: deletes every dashboard session past its expiry, a batch at a time."""
    purged = dashboard_sessions.purge_expired()
    if purged:
        logger.info("purged %d expired dashboard session(s)", purged, extra={"count": purged})
