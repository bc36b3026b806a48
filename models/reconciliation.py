"""Reconciliation: an order's payment transaction follows the partner's answer to the order.

    order Succesful        -> transaction Completed
    order Failed           -> transaction Failed
    order Pending          -> left as it is: no answer yet
    order Need_more_info   -> left as it is: the partner waits for the buyer, and no transaction status
                              says that (Received is the step before the payment provider, not after)

A transaction that already says what its order says is left alone: a Cancelled payment agrees with a
Failed order (no money moved either way). Otherwise it moves only as the transition rules allow
(models/transactions.py), and never from Completed to Failed, which they would allow: the money was
taken, and marking the payment failed would hide the refund it needs. A transaction that may not move
is never overwritten: the disagreement is recorded once, as a conflict for an operator to settle.

Every change that may put a transaction out of line with its order flags it (``request``) in the same
database transaction, and reconciling clears the flag. A message carries the order id to a worker at
once; the clock's sweep finds whatever a lost message left flagged. Each write is conditional on the
row as it was read, so two workers reconciling the same order change it once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, ModelSelect

from models import orders
from models.base import BaseModel, utcnow
from models.errors import NotFound
from models.orders import Order
from models.partners import Partner
from models.transactions import CANCELLED, COMPLETED, FAILED, STATUSES, Transaction, transition_error

logger = logging.getLogger(__name__)

CHANGED = "changed"
UNCHANGED = "unchanged"
CONFLICT = "conflict"
NO_TRANSACTION = "no_transaction"

# The transaction status each order status calls for; an order status not listed calls for none yet.
VERDICTS = {orders.SUCCESSFUL: COMPLETED, orders.FAILED: FAILED}
# The transaction statuses that already say what each verdict says.
AGREEING = {COMPLETED: frozenset({COMPLETED}), FAILED: frozenset({FAILED, CANCELLED})}


class ReconciliationConflict(BaseModel):
    id = AutoField()
    transaction = ForeignKeyField(Transaction, backref="conflicts", index=False)  # led by the unique index
    order = ForeignKeyField(Order, backref="reconciliation_conflicts")
    transaction_id: int
    order_id: str
    transaction_status = IntegerField()
    order_status = CharField(max_length=20)
    detected_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "reconciliation_conflict"
        # The same disagreement is recorded once, however often it is found.
        indexes = ((("transaction", "transaction_status", "order_status"), True),)

    @property
    def reason(self) -> str:
        if self.transaction_status == COMPLETED:
            return (
                f"Transaction {self.transaction_id} is Completed, but order {self.order_id} is "
                f"{self.order_status}: the payment taken needs a refund."
            )
        return (
            f"Transaction {self.transaction_id} is {STATUSES[self.transaction_status]}, which is final, "
            f"but order {self.order_id} is {self.order_status}."
        )

    @property
    def called_for(self) -> int | None:
        """The transaction status the order calls for: what reconciliation would have set."""
        return VERDICTS.get(self.order_status)


def request(order_id: str, now: datetime | None = None) -> None:
    """Flag the order's transaction for reconciling; call it in the transaction that changes the order."""
    Transaction.update(reconcile_requested_at=now or utcnow()).where(Transaction.order == order_id).execute()


def reconcile(order_id: str, now: datetime | None = None) -> str:
    """Bring the order's transaction in line with the order; returns what happened."""
    now = now or utcnow()
    transaction = (
        Transaction.select(Transaction, Order).join(Order).where(Transaction.order == order_id).first()
    )
    if transaction is None:
        return NO_TRANSACTION
    as_read = (
        (Transaction.id == transaction.id)
        & (Transaction.status == transaction.status)
        & (Transaction.reconcile_requested_at == transaction.reconcile_requested_at)
    )
    order = transaction.order
    target = VERDICTS.get(order.status)
    if target is None or transaction.status in AGREEING[target]:
        outcome = UNCHANGED
    elif _may_move(transaction.status, target):
        moved = (
            Transaction.update(status=target, modified_at=now, reconcile_requested_at=None)
            .where(as_read)
            .execute()
        )
        # Nothing moved: the row changed after the read (another worker, a PATCH). Judge it again.
        return CHANGED if moved else reconcile(order_id, now)
    else:
        _record_conflict(transaction, order, now)
        outcome = CONFLICT
    if transaction.reconcile_requested_at is not None:
        # A request made since the read keeps its flag, for its own message or the sweep.
        Transaction.update(reconcile_requested_at=None).where(as_read).execute()
    return outcome


def _may_move(status: int, target: int) -> bool:
    """As the transition rules allow, but a payment taken is not marked failed: it needs a refund."""
    return transition_error(status, target) is None and (status, target) != (COMPLETED, FAILED)


def _record_conflict(transaction: Transaction, order: Order, now: datetime) -> None:
    recorded = (
        ReconciliationConflict.insert(
            transaction=transaction.id,
            order=order.id,
            transaction_status=transaction.status,
            order_status=order.status,
            detected_at=now,
        )
        .on_conflict_ignore()
        .as_rowcount()
        .execute()
    )
    if recorded:
        logger.warning(
            "reconciliation conflict: transaction %s is %s but order %s is %s; left for an operator",
            transaction.id,
            STATUSES[transaction.status],
            order.id,
            order.status,
        )


def overdue(cutoff: datetime, limit: int = 500) -> list[str]:
    """Orders whose transaction has waited since before ``cutoff``: the message for it was lost."""
    query = (
        Transaction.select(Transaction.order)
        .where(Transaction.reconcile_requested_at <= cutoff)
        .order_by(Transaction.reconcile_requested_at)
        .limit(limit)
    )
    return list(query.scalars())


def conflicts(*, in_full: bool = False) -> ModelSelect[ReconciliationConflict]:
    """Every recorded conflict, newest first.

    ``in_full`` loads each one's transaction, order and the order's partner in the same query.
    """
    query = ReconciliationConflict.select()
    if in_full:
        query = (
            ReconciliationConflict.select(ReconciliationConflict, Transaction, Order, Partner)
            .join_from(ReconciliationConflict, Transaction)
            .join_from(ReconciliationConflict, Order)
            .join_from(Order, Partner)
        )
    return query.order_by(ReconciliationConflict.id.desc())


def conflict_count() -> int:
    return conflicts().count()


def get_conflict(conflict_id: int) -> ReconciliationConflict:
    conflict = ReconciliationConflict.get_or_none(ReconciliationConflict.id == conflict_id)
    if conflict is None:
        raise NotFound(f"No reconciliation conflict {conflict_id}.")
    return conflict
