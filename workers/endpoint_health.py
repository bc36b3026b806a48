"""Endpoint health on the clock: disabling the endpoints that have failed for too long.

The delivery path disables an endpoint when a failed attempt finds it failing for the whole span; an
endpoint whose deliveries are all dead gets no more attempts, so this job looks for it instead.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import dramatiq

from models import partners
from workers import metrics
from workers.broker import settings

logger = logging.getLogger(__name__)


@dramatiq.actor(actor_name="disable_failing_endpoints", queue_name="maintenance", max_retries=3)
def disable_failing_endpoints() -> None:
    """Idempotent: only endpoints still enabled and failing for the whole span are disabled."""
    disabled = partners.disable_long_failing(timedelta(seconds=settings.endpoint_disable_after_seconds))
    for partner_id in disabled:
        metrics.endpoints_disabled.inc()
        logger.warning(
            "endpoint of partner %s disabled: failing too long",
            partner_id,
            extra={"event": "endpoint.disabled", "partner_id": partner_id},
        )
