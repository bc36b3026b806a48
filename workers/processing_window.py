"""The one-minute processing window: a delayed message closes it if the partner has not answered."""

from __future__ import annotations

import logging

import dramatiq

from models import orders
from models.base import utcnow
from workers import (
    broker,  # noqa: F401  (the broker is set before any actor is declared)
    metrics,
)
from workers.dispatch import dispatch

logger = logging.getLogger(__name__)


@dramatiq.actor(actor_name="close_processing_window", queue_name="orders", max_retries=10, min_backoff=500)
def close_processing_window(order_id: str, window_round: int) -> None:
    """Idempotent: a conditional update records the expiry once, and only for the window still open."""
    if orders.expire_window(order_id, window_round):
        metrics.windows_expired.labels("timer").inc()
        logger.info(
            "processing window expired unanswered",
            extra={"event": "order.window_expired", "order_id": order_id, "window_round": window_round},
        )


def schedule_close(order: orders.Order) -> bool:
    """Wake up when the order's window ends."""
    remaining = (order.window_ends_at - utcnow()).total_seconds()
    return dispatch(close_processing_window, order.id, order.window_round, delay_seconds=remaining)


@dramatiq.actor(actor_name="expire_overdue_windows", queue_name="maintenance", max_retries=3)
def expire_overdue_windows() -> None:
    """Idempotent backstop run by the clock: closes windows whose timer message was lost."""
    expired = orders.expire_overdue_windows()
    if expired:
        metrics.windows_expired.labels("backstop").inc(expired)
        logger.info("backstop closed %d overdue processing window(s)", expired, extra={"count": expired})
