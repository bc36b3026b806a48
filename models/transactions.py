"""Payment transactions, as Solitude's generic API keeps them, and the rules for changing them.

Statuses and types are the document's integers. After creation only ``status``, ``notes`` and
``uid_pay`` change, and a status only as Solitude allowed:

    Failed, Cancelled       final
    Checked, Received    -> Completed | Failed
    Pending, Completed   -> any status

Placing a Courier order opens its payment transaction, and from then on the order's answer decides
what the transaction becomes (models/reconciliation.py). Amounts are integers in minor units beside
their currency, as prices are; the API shows them as decimal strings.
"""

from __future__ import annotations

import uuid as uuid_module
from decimal import Decimal
from typing import Any, cast

from peewee import (
    BigAutoField,
    BigIntegerField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from models import buyers, sellers
from models.base import BaseModel, locked, unique, utcnow
from models.buyers import Buyer
from models.catalogue import Price
from models.currencies import to_minor_units
from models.errors import InvalidInput, NotFound
from models.orders import Order
from models.sellers import SellerProduct

PENDING, COMPLETED, CHECKED, RECEIVED, FAILED, CANCELLED = range(6)
STATUSES = {
    PENDING: "Pending",
    COMPLETED: "Completed",
    CHECKED: "Checked",
    RECEIVED: "Received",
    FAILED: "Failed",
    CANCELLED: "Cancelled",
}
FINAL = frozenset({FAILED, CANCELLED})
# What a Checked or Received transaction may still become.
SETTLING = frozenset({COMPLETED, FAILED})

PAYMENT, REFUND, REVERSAL = range(3)
TYPES = {PAYMENT: "payment", REFUND: "refund", REVERSAL: "reversal"}

# Solitude's providers keep their numbers; Courier's own orders are paid through the marketplace, a
# provider numbered well clear of any Solitude added later.
PROVIDER_PAYPAL = 0
PROVIDER_BANGO = 1
PROVIDER_COURIER = 100
PROVIDERS = {PROVIDER_PAYPAL: "paypal", PROVIDER_BANGO: "bango", PROVIDER_COURIER: "courier"}

# The largest amount the amount column holds, in minor units: a 64-bit integer.
MAX_AMOUNT = 2**63 - 1


def new_uuid() -> str:
    return str(uuid_module.uuid4())


class Transaction(BaseModel):
    id = BigAutoField()
    uuid = CharField(max_length=255, unique=True, default=new_uuid)
    amount = BigIntegerField()  # minor units of ``currency``
    currency = CharField(max_length=3)
    provider = IntegerField()
    status = IntegerField(default=PENDING)
    type = IntegerField(default=PAYMENT)
    buyer = ForeignKeyField(Buyer, null=True, backref="transactions")
    seller_product = ForeignKeyField(SellerProduct, backref="transactions", index=False)
    related = ForeignKeyField("self", null=True, backref="relations")
    # The Courier order this transaction pays for: one payment transaction per order.
    order = ForeignKeyField(Order, null=True, unique=True, backref="transactions")
    buyer_id: int | None
    seller_product_id: int
    related_id: int | None
    order_id: str | None
    uid_pay = CharField(max_length=255, null=True)
    uid_support = CharField(max_length=255, null=True)
    notes = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    modified_at = DateTimeField(default=utcnow)
    # Set in the same database transaction as any change that may put this transaction out of line
    # with its order, and cleared once reconciled: the sweep finds what a lost message left behind.
    reconcile_requested_at = DateTimeField(null=True)

    class Meta:
        table_name = "payment_transaction"  # TRANSACTION is an SQL keyword
        # Lists are newest first; each filter walks its own index in that order.
        indexes = (
            (("status", "id"), False),
            (("provider", "id"), False),
            (("seller_product", "id"), False),
        )


Transaction.add_index(
    Transaction.index(Transaction.reconcile_requested_at, name="transaction_reconcile_requested").where(
        Transaction.reconcile_requested_at.is_null(False)
    )
)


def transition_error(current: int, new: int) -> str | None:
    """Why a transaction that is ``current`` may not become ``new``, or None when it may."""
    if new == current:
        return None
    if current in FINAL:
        return f"{STATUSES[current]} is final: the status cannot change to {STATUSES[new]}"
    if current in (CHECKED, RECEIVED) and new not in SETTLING:
        return f"{STATUSES[current]} can only become Completed or Failed, not {STATUSES[new]}"
    return None


def get_transaction(transaction_id: int, *, field: str | None = None, lock: bool = False) -> Transaction:
    """The transaction; ``field`` names the request field that referred to it, if any. With ``lock``,
    its row is held until the transaction ends."""
    query = Transaction.select().where(Transaction.id == transaction_id)
    transaction = (locked(query) if lock else query).first()
    if transaction is None:
        raise NotFound(
            f"No transaction {transaction_id}.", fields={field: "does not exist"} if field else None
        )
    return transaction


def create_transaction(fields: dict[str, Any]) -> Transaction:
    """A transaction from a POST. ``amount`` is a Decimal in major units; references are ids."""
    fields = dict(fields)
    amount: Decimal = fields.pop("amount")
    try:
        fields["amount"] = to_minor_units(amount, fields["currency"])
    except ValueError as exc:
        raise InvalidInput(f"amount: {exc}.", fields={"amount": str(exc)}) from None
    if fields["amount"] > MAX_AMOUNT:  # "999999999999999" CLF: near 10**19 ten-thousandths
        raise InvalidInput(
            f"amount: more than a transaction holds in {fields['currency']}.",
            fields={"amount": "is too large"},
        )
    sellers.get_product(fields["seller_product"], field="seller_product")
    if fields.get("buyer") is not None:
        buyers.get_buyer(fields["buyer"], field="buyer")
    if fields.get("related") is not None:
        get_transaction(fields["related"], field="related")
    if fields.get("uuid") is None:
        fields["uuid"] = new_uuid()
    now = utcnow()
    with unique("uuid", f"A transaction with uuid {fields['uuid']!r} already exists."):
        return Transaction.create(**fields, created_at=now, modified_at=now)


def update_transaction(transaction: Transaction, changes: dict[str, Any]) -> Transaction:
    """A PATCH of ``status``, ``notes`` or ``uid_pay``; a status change must follow the rules above."""
    if "status" in changes:
        reason = transition_error(transaction.status, changes["status"])
        if reason:
            raise InvalidInput(f"Transaction {transaction.id}: {reason}.", fields={"status": reason})
    now = utcnow()
    updates: dict[str, Any] = {**changes, "modified_at": now}
    if transaction.order_id is not None and changes.get("status", transaction.status) != transaction.status:
        updates["reconcile_requested_at"] = now  # the order may say otherwise
    changed = (
        Transaction.update(updates)
        .where((Transaction.id == transaction.id) & (Transaction.status == transaction.status))
        .execute()
    )
    if not changed:  # the status moved meanwhile: judge the change against what it is now
        return update_transaction(get_transaction(transaction.id), changes)
    return get_transaction(transaction.id)


def open_for_order(order: Order, price: Price) -> Transaction:
    """The Pending payment transaction for an order just placed at ``price`` (its product loaded), its
    buyer and seller product made if this is their first order. (Placing an order through the API opens
    it with ``new_payment``, in the statement that writes the order: ``models.placement``.)"""
    buyer = buyers.buyer_for(buyer_uuid(order.user_id))
    transaction = new_payment(order, price, buyer.id, sellers.product_of(price.product).id)
    transaction.save(force_insert=True)
    return transaction


def new_payment(order: Order, price: Price, buyer_id: int, seller_product_id: int) -> Transaction:
    """The Pending payment transaction for ``order``, unsaved: the buyer stands for its customer and the
    seller product for its product (``buyer_uuid`` and ``sellers.product_of``)."""
    now = utcnow()
    return Transaction(
        amount=price.amount,
        currency=price.currency,
        provider=PROVIDER_COURIER,
        status=PENDING,
        type=PAYMENT,
        buyer=buyer_id,
        seller_product=seller_product_id,
        order=order.id,
        uid_pay=order.id,
        created_at=now,
        modified_at=now,
    )


def buyer_uuid(user_id: str) -> str:
    """The uuid of the buyer standing for a Courier customer in the payments API."""
    return sellers.COURIER_PREFIX + user_id


def relations_of(transaction_ids: list[int]) -> dict[int, list[int]]:
    """The children of each transaction (refunds, reversals), in one query for a whole page."""
    children: dict[int, list[int]] = {transaction_id: [] for transaction_id in transaction_ids}
    query = (
        Transaction.select(Transaction.id, Transaction.related)
        .where(Transaction.related.in_(transaction_ids))
        .order_by(Transaction.id)
    )
    for child in query:
        children[cast(int, child.related_id)].append(child.id)  # children only: related is set
    return children
