"""Reconciling transactions with their orders (models/reconciliation.py).

The API flags an order's transaction in the same database transaction as each change to the order, and
sends the order id here after the commit. The clock sends the actor without an order id every minute:
it then sweeps the transactions still flagged after a grace period, whose message was lost.
"""

from __future__ import annotations

from datetime import timedelta

import dramatiq

from models import reconciliation
from models.base import utcnow
from workers import broker  # noqa: F401  (the broker is set before any actor is declared)
from workers.dispatch import dispatch

# Long enough for the message sent after the commit to have been handled.
SWEEP_GRACE_SECONDS = 30
SWEEP_BATCH = 500


@dramatiq.actor(actor_name="reconcile_transactions", queue_name="payments", max_retries=10, min_backoff=500)
def reconcile_transactions(order_id: str | None = None) -> None:
    """Idempotent: conditional updates move a transaction and record a conflict once. Retried on errors."""
    if order_id is None:
        sweep()
    else:
        reconciliation.reconcile(order_id)


def sweep(grace_seconds: float = SWEEP_GRACE_SECONDS, batch: int = SWEEP_BATCH) -> int:
    """Reconcile every transaction flagged since before the grace period; returns how many.

    Reconciling clears a flag, and one set again meanwhile is newer than the cutoff, so each batch
    leaves the set for good and the loop ends.
    """
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    swept = 0
    while order_ids := reconciliation.overdue(cutoff, batch):
        for order_id in order_ids:
            reconciliation.reconcile(order_id)
        swept += len(order_ids)
    return swept


def enqueue(order_id: str) -> bool:
    """Send the reconciliation of an order just changed, after the commit."""
    return dispatch(reconcile_transactions, order_id)
