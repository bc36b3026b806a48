"""Webhook deliveries: the outbox. Each row is one message for one partner, and the truth about it.

The broker only carries wake-ups ("attempt delivery 42 now"); whatever it loses, the rows here still say
what is owed, and the sweeper sends it again. The body is serialised once, when the row is written, so
every attempt sends, and signs, the same bytes under the same ``webhook-id``.

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
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from peewee import (
    BigAutoField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
    fn,
)

from models import partners
from models.base import BaseModel, new_id, utcnow
from models.db import db
from models.orders import Order
from models.partners import Partner

PENDING = "pending"
DELIVERING = "delivering"
RETRYING = "retrying"
SUCCEEDED = "succeeded"
DEAD = "dead"
HELD = "held"
STATES = (PENDING, DELIVERING, RETRYING, SUCCEEDED, DEAD, HELD)
# The states a worker still has to act on; a partial index covers exactly these rows.
OPEN_STATES = (PENDING, DELIVERING, RETRYING)

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


# The sweeper's and the worker's lookups touch only open rows; delivered history does not slow them.
Delivery.add_index(
    Delivery.index(Delivery.next_attempt_at, name="delivery_open_next_attempt").where(
        Delivery.state.in_(OPEN_STATES)
    )
)


class Attempt(BaseModel):
    id = BigAutoField()
    delivery = ForeignKeyField(Delivery, backref="attempts", on_delete="CASCADE")
    attempted_at = DateTimeField(default=utcnow)
    url = TextField()
    status_code = IntegerField(null=True)
    error = TextField(null=True)  # the network error, when there was no response
    duration_ms = IntegerField()
    response_excerpt = TextField(null=True)
    trigger = CharField(max_length=10, default=SCHEDULED)

    class Meta:
        indexes = ((("delivery", "attempted_at"), False),)


def serialise(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def create_delivery(
    partner_id: str, event_type: str, payload: dict[str, Any], order_id: str | None = None
) -> Delivery:
    return Delivery.create(
        partner=partner_id, order=order_id, event_type=event_type, payload=serialise(payload)
    )


@dataclass(frozen=True)
class Claim:
    """A delivery a worker holds until ``lease_expires_at``, with everything it needs to send it."""

    delivery_id: int
    webhook_id: str
    partner_id: str
    order_id: str | None
    created_at: datetime
    url: str
    payload: str
    trigger: str
    attempt_number: int
    lease_expires_at: datetime
    endpoint_disabled: bool


def _claimable(now: datetime):
    due = Delivery.state.in_((PENDING, RETRYING)) & (Delivery.next_attempt_at <= now)
    abandoned = (Delivery.state == DELIVERING) & (Delivery.lease_expires_at < now)
    return due | abandoned


def claim(delivery_id: int, lease_seconds: float, now: datetime | None = None) -> Claim | None:
    """Take the delivery for one attempt, or None when it is not due or another worker holds it.

    The conditional UPDATE is the lock: of two workers claiming at once, exactly one changes the row.
    A claim whose worker died lapses at ``lease_expires_at`` and can be taken again.
    """
    now = now or utcnow()
    lease_expires_at = now + timedelta(seconds=lease_seconds)
    taken = (
        Delivery.update(state=DELIVERING, lease_expires_at=lease_expires_at)
        .where((Delivery.id == delivery_id) & _claimable(now))
        .execute()
    )
    if not taken:
        return None
    row = Delivery.select(Delivery, Partner).join(Partner).where(Delivery.id == delivery_id).get()
    return Claim(
        delivery_id=row.id,
        webhook_id=row.webhook_id,
        partner_id=row.partner_id,
        order_id=row.order_id,
        created_at=row.created_at,
        url=row.partner.webhook_url,
        payload=row.payload,
        trigger=row.next_trigger,
        attempt_number=row.attempt_count + 1,
        lease_expires_at=lease_expires_at,
        endpoint_disabled=not row.partner.endpoint_enabled,
    )


def _held_by(claim_: Claim):
    """Fences every write after a claim: a worker whose lease lapsed and was re-taken writes nothing."""
    return (
        (Delivery.id == claim_.delivery_id)
        & (Delivery.state == DELIVERING)
        & (Delivery.lease_expires_at == claim_.lease_expires_at)
    )


def hold(claim_: Claim) -> bool:
    """Park the delivery until its partner's endpoint is enabled again."""
    return bool(
        Delivery.update(state=HELD, lease_expires_at=None, next_attempt_at=None)
        .where(_held_by(claim_))
        .execute()
    )


def defer(claim_: Claim, seconds: float, now: datetime | None = None) -> bool:
    """Give the claim back without attempting, to be tried again in ``seconds``."""
    now = now or utcnow()
    return bool(
        Delivery.update(
            state=PENDING if claim_.attempt_number == 1 else RETRYING,
            lease_expires_at=None,
            next_attempt_at=now + timedelta(seconds=seconds),
        )
        .where(_held_by(claim_))
        .execute()
    )


@dataclass(frozen=True)
class AttemptResult:
    """What one HTTP attempt produced; ``status_code`` is None when no response came back."""

    url: str
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    response_excerpt: str | None = None
    retry_after_seconds: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_delay(
    schedule: Sequence[float], attempt_number: int, jitter: float, rng: random.Random | None = None
) -> float | None:
    """Seconds to wait after failed attempt ``attempt_number`` (1-based), or None when none is left."""
    if attempt_number > len(schedule):
        return None
    base = schedule[attempt_number - 1]
    spread = (rng or random).uniform(-jitter, jitter)
    return max(0.0, base * (1 + spread))


GONE = 410


def record_attempt(
    claim_: Claim,
    result: AttemptResult,
    next_delay: float | None,
    *,
    disable_after: timedelta,
    now: datetime | None = None,
) -> str | None:
    """Log the attempt, update the endpoint's health, and move the delivery on.

    Succeeded on a 2xx. Otherwise: held when the endpoint is now disabled (at once on 410 Gone, or
    because every attempt has failed for ``disable_after``), retrying after ``next_delay``, or dead
    when the schedule has run out. Returns the new state, or None when the claim had lapsed and another
    worker owns the delivery (the attempt is still logged: it happened).
    """
    now = now or utcnow()
    with db.atomic():
        if result.succeeded:
            partners.record_success(claim_.partner_id, now)
            changes: dict[Any, Any] = {"state": SUCCEEDED, "delivered_at": now, "next_attempt_at": None}
        elif result.status_code == GONE:
            partners.disable_endpoint(claim_.partner_id, f"{claim_.url} answered 410 Gone", now)
            changes = {"state": HELD, "next_attempt_at": None}
        elif partners.record_failure(claim_.partner_id, now, disable_after):
            changes = {"state": HELD, "next_attempt_at": None}
        elif next_delay is None:
            changes = {"state": DEAD, "next_attempt_at": None}
        else:
            changes = {"state": RETRYING, "next_attempt_at": now + timedelta(seconds=next_delay)}
        changes.update(
            attempt_count=Delivery.attempt_count + 1,
            last_attempt_at=now,
            lease_expires_at=None,
            next_trigger=SCHEDULED,
        )
        moved = Delivery.update(changes).where(_held_by(claim_)).execute()
        if moved or Delivery.select().where(Delivery.id == claim_.delivery_id).exists():
            Attempt.create(
                delivery=claim_.delivery_id,
                attempted_at=now,
                url=result.url,
                status_code=result.status_code,
                error=result.error,
                duration_ms=result.duration_ms,
                response_excerpt=(result.response_excerpt or "")[:EXCERPT_CHARS] or None,
                trigger=claim_.trigger,
            )
    return changes["state"] if moved else None


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
