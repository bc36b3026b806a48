"""Sending deliveries again: the sweeper's query, operators' and partners' re-queues, held deliveries.

Every function here only changes rows; the caller sends the wake-up messages after its transaction
commits. A re-queued delivery keeps its ``webhook-id``: the partner sees the same message again, not a
new one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from peewee import ModelSelect

from models.base import older_than, utcnow
from models.deliveries import (
    DEAD,
    DELIVERING,
    HELD,
    MANUAL,
    PENDING,
    RETRYING,
    STATES,
    SUCCEEDED,
    Delivery,
)
from models.errors import Conflict, InvalidInput, NotFound
from models.partners import Partner

# What a re-queue may start from: a delivery that is not already waiting for, or in, an attempt.
REQUEUEABLE = (SUCCEEDED, RETRYING, DEAD, HELD)
# What a bulk re-queue takes when no state is named: the failed ones.
FAILED_STATES = (RETRYING, DEAD)


def overdue_queries(
    now: datetime | None = None, grace_seconds: float = 0, limit: int = 1000
) -> tuple[ModelSelect[Delivery], ModelSelect[Delivery]]:
    """Deliveries whose wake-up must have been lost: those due for ``grace_seconds``, and those claimed
    by a worker whose lease lapsed (it died mid-attempt). A delivery in flight under a live lease is
    left alone.

    Two queries rather than one with an OR, each on a partial index of its own (migration 0006), so
    that each is a plain index scan, never a bitmap scan. Every delivery made leaves dead entries
    behind in those indexes; a plain index scan marks each dead entry it meets so that no later scan
    visits it again, whereas a bitmap scan visits them all every time until the table is vacuumed
    (seen after 100,000 deliveries with autovacuum off: 70-85 ms every sweep with one OR query, and
    with these, 95 ms for the first sweep and under a millisecond for every one after it).
    """
    now = now or utcnow()
    cutoff = now - timedelta(seconds=grace_seconds)
    due = (
        Delivery.select(Delivery.id)
        .where(Delivery.state.in_((PENDING, RETRYING)) & (Delivery.next_attempt_at <= cutoff))
        .order_by(Delivery.next_attempt_at)  # the partial index delivery_due
        .limit(limit)
    )
    lapsed = (
        Delivery.select(Delivery.id)
        .where((Delivery.state == DELIVERING) & (Delivery.lease_expires_at < now))
        .order_by(Delivery.lease_expires_at)  # the partial index delivery_lapsing
        .limit(limit)
    )
    return due, lapsed


def overdue(now: datetime | None = None, grace_seconds: float = 0, limit: int = 1000) -> list[int]:
    due, lapsed = overdue_queries(now, grace_seconds, limit)
    # The lapsed first: they are few (what a dead worker held), and a backlog of due rows longer than
    # the batch must not keep them waiting sweep after sweep.
    return ([row.id for row in lapsed] + [row.id for row in due])[:limit]


@dataclass(frozen=True)
class Filters:
    """The filters of the deliveries list, which bulk re-queues take too."""

    partner_id: str | None = None
    state: str | None = None
    event_type: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in STATES:
            raise InvalidInput(
                f"Unknown state {self.state!r}.", fields={"state": "must be one of " + ", ".join(STATES)}
            )

    def apply(self, query: ModelSelect[Delivery]) -> ModelSelect[Delivery]:
        if self.partner_id is not None:
            query = query.where(Delivery.partner == self.partner_id)
        if self.state is not None:
            query = query.where(Delivery.state == self.state)
        if self.event_type is not None:
            query = query.where(Delivery.event_type == self.event_type)
        if self.created_after is not None:
            query = query.where(Delivery.created_at >= self.created_after)
        if self.created_before is not None:
            query = query.where(Delivery.created_at < self.created_before)
        return query


def matching(filters: Filters) -> ModelSelect[Delivery]:
    return filters.apply(Delivery.select())


# The order operators read deliveries in: what needs them first.
TRIAGE_ORDER = (DEAD, RETRYING, HELD, PENDING, DELIVERING, SUCCEEDED)


def triaged(filters: Filters, limit: int, after: Delivery | None = None) -> list[Delivery]:
    """Up to ``limit`` matching deliveries, dead first, then retrying, and so on down ``TRIAGE_ORDER``;
    newest first within a state; resuming after the delivery ``after`` when given.

    One indexed range scan per state rather than one sort of every row by a computed rank: a page costs
    at most six short reads however many deliveries there are.
    """
    states = [filters.state] if filters.state else list(TRIAGE_ORDER)
    if after is not None:
        states = states[states.index(after.state) :] if after.state in states else []
    rows: list[Delivery] = []
    for state in states:
        query = matching(replace(filters, state=state))
        if after is not None and state == after.state:
            query = query.where(older_than(Delivery, after))
        rows.extend(query.order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit - len(rows)))
        if len(rows) >= limit:
            break
    return rows


def get_delivery(delivery_id: int, *, partner_id: str | None = None) -> Delivery:
    """The delivery, seen by ``partner_id`` when given: another partner's delivery does not exist."""
    query = Delivery.select().where(Delivery.id == delivery_id)
    if partner_id is not None:
        query = query.where(Delivery.partner == partner_id)
    delivery = query.first()
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id}.")
    return delivery


def _requeue(query: ModelSelect[Delivery], now: datetime) -> int:
    return (
        Delivery.update(state=PENDING, next_attempt_at=now, next_trigger=MANUAL, lease_expires_at=None)
        .where(Delivery.id.in_(query))
        .execute()
    )


def requeue(delivery: Delivery, now: datetime | None = None) -> bool:
    """Attempt the delivery again now; the attempt is logged as manual. False if it was already queued."""
    if delivery.state == PENDING:
        return False
    if delivery.state == DELIVERING:
        raise Conflict(
            f"Delivery {delivery.id} is being attempted right now.", fields={"state": "delivering"}
        )
    if not Partner.get_by_id(delivery.partner_id).endpoint_enabled:
        raise Conflict(
            f"The endpoint of partner {delivery.partner_id} is disabled; enable it first, and its held "
            "deliveries go out by themselves.",
            fields={"partner_id": "endpoint disabled"},
            code="endpoint_disabled",
        )
    candidates = Delivery.select(Delivery.id).where(
        (Delivery.id == delivery.id) & Delivery.state.in_(REQUEUEABLE)
    )
    return bool(_requeue(candidates, now or utcnow()))


def _requeueable(filters: Filters) -> ModelSelect[Delivery]:
    """What a bulk re-queue takes: matching deliveries in a re-queueable state (the failed ones when no
    state is named), leaving those of disabled endpoints held."""
    states = [filters.state] if filters.state else list(FAILED_STATES)
    enabled = Partner.select(Partner.id).where(Partner.disabled_at.is_null())
    return matching(filters).where(
        Delivery.state.in_([s for s in states if s in REQUEUEABLE]) & Delivery.partner.in_(enabled)
    )


def count_requeueable(filters: Filters) -> int:
    """How many deliveries ``requeue_batches`` would re-queue: the dry run."""
    return _requeueable(filters).count()


def requeue_batches(
    filters: Filters, batch_size: int = 500, now: datetime | None = None
) -> Iterator[list[int]]:
    """Re-queue every delivery ``count_requeueable`` counts, a batch at a time, yielding each batch's
    ids so that the caller can send their messages and show progress."""
    now = now or utcnow()
    last_id = 0
    while True:
        batch = (
            _requeueable(filters)
            .select(Delivery.id)
            .where(Delivery.id > last_id)
            .order_by(Delivery.id)
            .limit(batch_size)
        )
        ids = [row.id for row in batch]
        if not ids:
            return
        last_id = ids[-1]
        still_requeueable = Delivery.id.in_(ids) & Delivery.state.in_(REQUEUEABLE)
        _requeue(Delivery.select(Delivery.id).where(still_requeueable), now)
        yield ids


def stranded_query(limit: int = 1000) -> ModelSelect[Delivery]:
    """Held deliveries whose partner's endpoint is enabled (the partial index delivery_held)."""
    return (
        Delivery.select(Delivery.id)
        .join(Partner, on=(Delivery.partner == Partner.id))
        .where((Delivery.state == HELD) & Partner.disabled_at.is_null())
        .limit(limit)
    )


def release_stranded(now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Held deliveries whose partner's endpoint is enabled, made due now.

    Enabling an endpoint releases what is held (``release_held``), but a worker may hold a delivery it
    claimed while the endpoint was disabled just after that release ran: nothing would wake it again.
    """
    return _make_due(stranded_query(limit), now or utcnow())


def release_held(partner_id: str, now: datetime | None = None) -> list[int]:
    """The partner's endpoint is enabled again: its held deliveries become due now."""
    held = Delivery.select(Delivery.id).where((Delivery.partner == partner_id) & (Delivery.state == HELD))
    return _make_due(held, now or utcnow())


def _make_due(held: ModelSelect[Delivery], now: datetime) -> list[int]:
    """The held deliveries ``held`` selects, pending and due now; their ids, for their wake-ups."""
    ids = [row.id for row in held]
    if ids:
        Delivery.update(state=PENDING, next_attempt_at=now).where(
            Delivery.id.in_(ids) & (Delivery.state == HELD)
        ).execute()
    return ids
