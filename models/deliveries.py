"""Webhook deliveries: the outbox. Each row is one message for one partner, and the truth about it.

The broker only carries wake-ups ("attempt delivery 42 now"); whatever it loses, the rows here still say
what is owed, and the sweeper sends it again. The body is serialised once, when the row is written, so
every attempt sends, and signs, the same bytes under the same ``webhook-id``. How one attempt claims a
row and records its outcome is in ``models/attempts.py``.

States:
    pending     waiting for its first attempt (or re-queued by an operator)
    delivering  claimed by a worker until ``lease_expires_at``
    retrying    failed, next attempt at ``next_attempt_at``
    succeeded   the partner answered 2xx
    dead        the retry schedule ran out
    held        the partner's endpoint is disabled; goes out when an operator re-enables it
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from peewee import (
    BigAutoField,
    CharField,
    ColumnBase,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
    fn,
)

from models.base import BaseModel, new_id, utcnow
from models.orders import Order
from models.partners import Partner

PENDING = "pending"
DELIVERING = "delivering"
RETRYING = "retrying"
SUCCEEDED = "succeeded"
DEAD = "dead"
HELD = "held"
STATES = (PENDING, DELIVERING, RETRYING, SUCCEEDED, DEAD, HELD)

SCHEDULED = "scheduled"
MANUAL = "manual"

EXCERPT_CHARS = 1024


class Delivery(BaseModel):
    id = BigAutoField()
    webhook_id = CharField(max_length=40, unique=True, default=lambda: new_id("msg"))
    partner = ForeignKeyField(Partner, backref="deliveries", on_delete="CASCADE")
    partner_id: str
    order = ForeignKeyField(Order, null=True, backref="deliveries", on_delete="CASCADE")
    order_id: str | None
    event_type = CharField(max_length=60)
    payload = TextField()  # the exact body, serialised once
    state = CharField(max_length=12, default=PENDING)
    attempt_count = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True, default=utcnow)
    # Whether the next attempt is the schedule's or one an operator asked for; the attempt log says so.
    next_trigger = CharField(max_length=10, default=SCHEDULED)
    lease_expires_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    last_attempt_at = DateTimeField(null=True)
    delivered_at = DateTimeField(null=True)

    @property
    def payload_json(self) -> Any:
        return json.loads(self.payload)

    class Meta:
        indexes = (
            (("partner", "created_at"), False),
            (("state", "created_at"), False),
            (("created_at",), False),
        )


# The sweeper's two lookups read only open rows, each through an index of its own (migration 0006):
# delivered history does not slow them.
Delivery.add_index(
    Delivery.index(Delivery.next_attempt_at, name="delivery_due").where(
        Delivery.state.in_((PENDING, RETRYING))
    )
)
Delivery.add_index(
    Delivery.index(Delivery.lease_expires_at, name="delivery_lapsing").where(Delivery.state == DELIVERING)
)
Delivery.add_index(Delivery.index(Delivery.partner, name="delivery_held").where(Delivery.state == HELD))


class Attempt(BaseModel):
    id = BigAutoField()
    delivery = ForeignKeyField(Delivery, backref="attempts", on_delete="CASCADE")
    delivery_id: int
    attempted_at = DateTimeField(default=utcnow)
    url = TextField()
    status_code = IntegerField(null=True)
    error = TextField(null=True)  # the network error, when there was no response
    duration_ms = IntegerField()
    response_excerpt = TextField(null=True)
    trigger = CharField(max_length=10, default=SCHEDULED)

    class Meta:
        # Unique: an attempt written again (its batch's commit answer lost) is logged once.
        indexes = ((("delivery", "attempted_at"), True), (("attempted_at",), False))

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def serialise(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def new_delivery(
    partner_id: str, event_type: str, payload: dict[str, Any], order_id: str | None = None
) -> Delivery:
    """A webhook due now, unsaved: for the caller to write in the transaction that made its event."""
    return Delivery(partner=partner_id, order=order_id, event_type=event_type, payload=serialise(payload))


def create_delivery(
    partner_id: str, event_type: str, payload: dict[str, Any], order_id: str | None = None
) -> Delivery:
    delivery = new_delivery(partner_id, event_type, payload, order_id)
    delivery.save(force_insert=True)
    return delivery


def count_undelivered() -> dict[str, int]:
    """How many deliveries are in each state but ``succeeded`` (which only grows): every state listed."""
    counts = dict.fromkeys((s for s in STATES if s != SUCCEEDED), 0)
    rows = (
        Delivery.select(Delivery.state, fn.COUNT(Delivery.id))
        .where(Delivery.state != SUCCEEDED)
        .group_by(Delivery.state)
        .tuples()
    )
    counts.update((state, count) for state, count in rows.iterator())
    return counts


def get_delivery(delivery_id: int) -> Delivery | None:
    return Delivery.get_or_none(Delivery.id == delivery_id)


def webhook_not_delivered() -> ColumnBase:
    """Orders with a webhook the partner has not (yet) received: one EXISTS probe on delivery's order
    index per order."""
    return fn.EXISTS(
        Delivery.select(Delivery.id).where((Delivery.order == Order.id) & (Delivery.state != SUCCEEDED))
    )


def deliveries_of_order(order_id: str) -> list[Delivery]:
    return list(Delivery.select().where(Delivery.order == order_id).order_by(Delivery.id))


def attempts_by_delivery(delivery_ids: Sequence[int]) -> dict[int, list[Attempt]]:
    """Every attempt of each delivery, oldest first, in one query."""
    attempts: dict[int, list[Attempt]] = {delivery_id: [] for delivery_id in delivery_ids}
    query = Attempt.select().where(Attempt.delivery.in_(list(delivery_ids))).order_by(Attempt.id)
    for attempt in query:
        attempts[attempt.delivery_id].append(attempt)
    return attempts


def latest_state_by_order(order_ids: Sequence[str]) -> dict[str, str]:
    """The state of each order's latest webhook, in one query; orders without one are left out."""
    query = (
        Delivery.select(Delivery.order, Delivery.state)
        .where(Delivery.order.in_(list(order_ids)))
        .order_by(Delivery.id)
    )
    return {str(row.order_id): row.state for row in query}
