"""One attempt at a delivery: claiming the row, and recording what the partner's endpoint answered.

A claim is a conditional UPDATE: of two workers claiming at once exactly one changes the row, and it
holds the row until ``lease_expires_at``. Every later write is fenced by that lease, so a worker whose
lease lapsed (and whose delivery another worker took) cannot overwrite the newer outcome.

This is the worker's hot path, so its two statements are SQL written once rather than built by the
query builder for every delivery: building them cost more CPU than their round trips to the database
(``scripts/bench/throughput.py`` measures it). On PostgreSQL each takes any number of deliveries, so
that a worker process claims together the deliveries it starts at the same moment, and records together
the attempts it finishes together (``workers/group_commit.py``); recording is then one statement too.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from models import partners
from models.base import utcnow
from models.db import db, execute_prepared, is_postgres
from models.deliveries import (
    DEAD,
    DELIVERING,
    EXCERPT_CHARS,
    HELD,
    PENDING,
    RETRYING,
    SUCCEEDED,
    Delivery,
)

GONE = 410


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
    # The endpoint's health as the claim found it: a success need not write to a healthy partner's row.
    partner_failing: bool = False
    partner_last_success_at: datetime | None = None


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


def _sql(statement: str) -> str:
    """``?`` placeholders in the form the bound database's driver takes."""
    return statement.replace("?", db.param)


_PARTNER_COLUMN = '(SELECT "{column}" FROM "partner" WHERE "partner"."id" = "delivery"."partner_id")'

# Scalar subqueries, not UPDATE ... FROM: SQLite's RETURNING may not name the FROM clause's tables.
# ``{which}`` picks the rows: one id, or on PostgreSQL every id of an array (claims made together).
_CLAIM = f"""
UPDATE "delivery" SET "state" = 'delivering', "lease_expires_at" = ?
WHERE {{which}} AND (
    ("state" IN ('pending', 'retrying') AND "next_attempt_at" <= ?)
    OR ("state" = 'delivering' AND "lease_expires_at" < ?))
RETURNING "id", "webhook_id", "partner_id", "order_id", "created_at", "payload", "next_trigger",
    "attempt_count",
    {_PARTNER_COLUMN.format(column="webhook_url")},
    {_PARTNER_COLUMN.format(column="disabled_at")},
    {_PARTNER_COLUMN.format(column="consecutive_failures")},
    {_PARTNER_COLUMN.format(column="last_success_at")}
"""
CLAIM = _CLAIM.format(which='"id" = ?')
CLAIM_MANY = _CLAIM.format(which='"id" = ANY(?)')
CLAIM_MANY_TYPES = ("timestamp", "bigint[]", "timestamp", "timestamp")


def claim(delivery_id: int, lease_seconds: float, now: datetime | None = None) -> Claim | None:
    """Take the delivery for one attempt, or None when it is not due or another worker holds it.

    A claim whose worker died lapses at ``lease_expires_at`` and can be taken again.
    """
    return claim_many([delivery_id], lease_seconds, now)[0]


def seconds_until_due(delivery_id: int, now: datetime | None = None) -> float | None:
    """How long until a delivery waiting for its attempt is due (<= 0: it is); None if it is not waiting."""
    waiting = (
        Delivery.select(Delivery.next_attempt_at)
        .where((Delivery.id == delivery_id) & Delivery.state.in_((PENDING, RETRYING)))
        .first()
    )
    if waiting is None or waiting.next_attempt_at is None:
        return None
    return (waiting.next_attempt_at - (now or utcnow())).total_seconds()


def claim_many(
    delivery_ids: Sequence[int], lease_seconds: float, now: datetime | None = None
) -> list[Claim | None]:
    """``claim`` for each id, all under one lease and on PostgreSQL in one statement. An id asked for
    twice is claimed once: the second asker gets None, as it would from a claim of its own."""
    now = now or utcnow()
    lease_expires_at = now + timedelta(seconds=lease_seconds)
    if is_postgres():
        params = (lease_expires_at, list(delivery_ids), now, now)
        rows = execute_prepared("courier_claim", CLAIM_MANY, CLAIM_MANY_TYPES, params).fetchall()
    else:
        with db.atomic():
            rows = [
                row
                for delivery_id in dict.fromkeys(delivery_ids)
                for row in db.execute_sql(_sql(CLAIM), (lease_expires_at, delivery_id, now, now)).fetchall()
            ]
    claimed = {row[0]: _claim_from(row, lease_expires_at) for row in rows}
    return [claimed.pop(delivery_id, None) for delivery_id in delivery_ids]


def _claim_from(row: tuple, lease_expires_at: datetime) -> Claim:
    (delivery_id, webhook_id, partner_id, order_id, created_at, payload, trigger, attempts, url, disabled_at,
     failures, last_success) = row  # fmt: skip
    return Claim(
        delivery_id=delivery_id,
        webhook_id=webhook_id,
        partner_id=partner_id,
        order_id=order_id,
        created_at=Delivery.created_at.python_value(created_at),
        url=url,
        payload=payload,
        trigger=trigger,
        attempt_number=attempts + 1,
        lease_expires_at=lease_expires_at,
        endpoint_disabled=disabled_at is not None,
        partner_failing=failures > 0,
        partner_last_success_at=Delivery.last_attempt_at.python_value(last_success),
    )


def _held_by(claim_: Claim):
    """Fences every write after a claim to the worker that holds it."""
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


def retry_delay(
    schedule: Sequence[float], attempt_number: int, jitter: float, rng: random.Random | None = None
) -> float | None:
    """Seconds to wait after failed attempt ``attempt_number`` (1-based), or None when none is left."""
    if attempt_number > len(schedule):
        return None
    base = schedule[attempt_number - 1]
    spread = (rng or random).uniform(-jitter, jitter)
    return max(0.0, base * (1 + spread))


MOVE = """
UPDATE "delivery" SET "state" = ?, "next_attempt_at" = ?, "delivered_at" = COALESCE(?, "delivered_at"),
    "attempt_count" = "attempt_count" + 1, "last_attempt_at" = ?, "lease_expires_at" = NULL,
    "next_trigger" = 'scheduled'
WHERE "id" = ? AND "state" = 'delivering' AND "lease_expires_at" = ?
"""
# The attempt is logged even when the lease had lapsed (it happened), unless the row is gone: the
# delivery by its id and its webhook id, never another row that took the id (SQLite reuses the highest
# id after a delete). Logged once: an outcome written again, because the answer to the statement that
# wrote it was lost, finds its attempt already there (the unique index on the delivery and the moment).
ONCE = 'ON CONFLICT ("delivery_id", "attempted_at") DO NOTHING'
LOG = f"""
INSERT INTO "attempt" ("delivery_id", "attempted_at", "url", "status_code", "error", "duration_ms",
    "response_excerpt", "trigger")
SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM "delivery" WHERE "id" = ? AND "webhook_id" = ?)
{ONCE}
"""
# On PostgreSQL both in one statement, for any number of attempts: one round trip, atomic without BEGIN
# and COMMIT, and one commit for every attempt a worker process finished meanwhile (``Outcome`` rows,
# passed as one JSON document, each numbered). Returns the numbers of the outcomes that moved their delivery.
MOVE_AND_LOG_MANY = f"""
WITH "outcome" AS (
    SELECT * FROM json_to_recordset(?::json) AS "o"("n" integer, "delivery_id" bigint, "webhook_id" text,
        "lease" timestamp,
        "state" varchar, "next_attempt_at" timestamp, "delivered_at" timestamp, "at" timestamp, "url" text,
        "status_code" integer, "error" text, "duration_ms" integer, "excerpt" text, "trigger" varchar)
), "moved" AS (
    UPDATE "delivery" SET "state" = "o"."state", "next_attempt_at" = "o"."next_attempt_at",
        "delivered_at" = COALESCE("o"."delivered_at", "delivery"."delivered_at"),
        "attempt_count" = "delivery"."attempt_count" + 1, "last_attempt_at" = "o"."at",
        "lease_expires_at" = NULL, "next_trigger" = 'scheduled'
    FROM "outcome" AS "o"
    WHERE "delivery"."id" = "o"."delivery_id" AND "delivery"."state" = 'delivering'
        AND "delivery"."lease_expires_at" = "o"."lease"
    RETURNING "o"."n"
), "logged" AS (
    INSERT INTO "attempt" ("delivery_id", "attempted_at", "url", "status_code", "error", "duration_ms",
        "response_excerpt", "trigger")
    SELECT "o"."delivery_id", "o"."at", "o"."url", "o"."status_code", "o"."error", "o"."duration_ms",
        "o"."excerpt", "o"."trigger"
    FROM "outcome" AS "o" WHERE EXISTS (
        SELECT 1 FROM "delivery" WHERE "delivery"."id" = "o"."delivery_id" AND "webhook_id" = "o"."webhook_id"
    )
    {ONCE}
)
SELECT "n" FROM "moved"
"""
OUTCOME_COLUMNS = (
    "n", "delivery_id", "webhook_id", "lease", "state", "next_attempt_at", "delivered_at", "at", "url",
    "status_code", "error", "duration_ms", "excerpt", "trigger",
)  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """What one attempt writes: the delivery's next state, fenced by the claim's lease, and its log line."""

    delivery_id: int
    webhook_id: str
    lease_expires_at: datetime
    state: str
    next_attempt_at: datetime | None
    at: datetime
    url: str
    status_code: int | None
    error: str | None
    duration_ms: int
    response_excerpt: str | None
    trigger: str

    @property
    def delivered_at(self) -> datetime | None:
        return self.at if self.state == SUCCEEDED else None

    def move_params(self) -> tuple[Any, ...]:
        return (
            self.state,
            self.next_attempt_at,
            self.delivered_at,
            self.at,
            self.delivery_id,
            self.lease_expires_at,
        )

    def log_params(self) -> tuple[Any, ...]:
        return (
            self.delivery_id,
            self.at,
            self.url,
            self.status_code,
            self.error,
            self.duration_ms,
            self.response_excerpt,
            self.trigger,
            self.delivery_id,
            self.webhook_id,
        )

    def document(self) -> list[Any]:
        """The outcome as a row of MOVE_AND_LOG_MANY's JSON, in its column order."""
        return [
            self.delivery_id,
            self.webhook_id,
            _timestamp(self.lease_expires_at),
            self.state,
            _timestamp(self.next_attempt_at),
            _timestamp(self.delivered_at),
            _timestamp(self.at),
            self.url,
            self.status_code,
            self.error,
            self.duration_ms,
            self.response_excerpt,
            self.trigger,
        ]


def _storable(text: str | None) -> str | None:
    """``text`` with each NUL character replaced: a partner's body may hold them, PostgreSQL's text not."""
    return None if text is None else text.replace("\x00", "\ufffd")


def _timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def write_outcomes(outcomes: Sequence[Outcome]) -> list[bool]:
    """Write each attempt's outcome, all in one statement on PostgreSQL; for each, whether it moved
    the delivery (False: the claim had lapsed, and another worker owns the delivery)."""
    if is_postgres():
        document = json.dumps(
            [dict(zip(OUTCOME_COLUMNS, [n, *o.document()], strict=True)) for n, o in enumerate(outcomes)]
        )
        moved = {row[0] for row in execute_prepared("courier_record", MOVE_AND_LOG_MANY, (), (document,))}
        return [n in moved for n in range(len(outcomes))]
    written = []
    with db.atomic():
        for outcome in outcomes:
            written.append(bool(db.execute_sql(_sql(MOVE), outcome.move_params()).rowcount))
            db.execute_sql(_sql(LOG), outcome.log_params())
    return written


def _outcome(claim_: Claim, result: AttemptResult, next_delay: float | None, now: datetime, disable_after):
    """The state the attempt leaves the delivery in, after updating its endpoint's health."""
    if result.succeeded:
        stale = claim_.partner_last_success_at is None or (
            now - claim_.partner_last_success_at >= partners.LAST_SUCCESS_RESOLUTION
        )
        if claim_.partner_failing or stale:
            partners.record_success(claim_.partner_id, now)
        return SUCCEEDED, None
    if result.status_code == GONE:
        partners.disable_endpoint(claim_.partner_id, f"{claim_.url} answered 410 Gone", now)
        return HELD, None
    if partners.record_failure(claim_.partner_id, now, disable_after):
        return HELD, None
    if next_delay is None:
        return DEAD, None
    return RETRYING, now + timedelta(seconds=next_delay)


def record_attempt(
    claim_: Claim,
    result: AttemptResult,
    next_delay: float | None,
    *,
    disable_after: timedelta,
    now: datetime | None = None,
    write: Callable[[Outcome], bool] | None = None,
) -> str | None:
    """Log the attempt, update the endpoint's health, and move the delivery on.

    Succeeded on a 2xx. Otherwise: held when the endpoint is now disabled (at once on 410 Gone, or
    because every attempt has failed for ``disable_after``), retrying after ``next_delay``, or dead
    when the schedule has run out. Returns the new state, or None when the claim had lapsed and another
    worker owns the delivery. ``write`` writes the outcome (the worker's writes it with others').
    """
    now = now or utcnow()
    state, next_attempt_at = _outcome(claim_, result, next_delay, now, disable_after)
    outcome = Outcome(
        delivery_id=claim_.delivery_id,
        webhook_id=claim_.webhook_id,
        lease_expires_at=claim_.lease_expires_at,
        state=state,
        next_attempt_at=next_attempt_at,
        at=now,
        url=result.url,
        status_code=result.status_code,
        error=_storable(result.error),
        duration_ms=result.duration_ms,
        response_excerpt=_storable((result.response_excerpt or "")[:EXCERPT_CHARS]) or None,
        trigger=claim_.trigger,
    )
    moved = write(outcome) if write is not None else write_outcomes([outcome])[0]
    return state if moved else None
