"""Delivering webhooks: claim the row, sign the stored body, POST it, log the attempt, schedule the next.

The database row is the truth and the broker carries wake-ups. The retry schedule is carried by
delayed messages (which the Redis broker keeps across restarts); a wake-up lost on the way is sent
again by the sweeper, and a duplicate one finds nothing to claim.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from datetime import timedelta

import dramatiq

from models import attempts, deliveries, partners
from models.base import utcnow
from models.db import close_connection
from workers import metrics, sender, signing
from workers.broker import partner_slots, settings
from workers.dispatch import dispatch, dispatch_many
from workers.group_commit import GroupCommit

logger = logging.getLogger(__name__)

# A claim outlives the longest a worker may hold it (a wait for one of the partner's slots, then the
# request's timeout) by this much, so that a worker still sending never loses its claim to the
# sweeper; a worker that dies releases the row this long after that.
LEASE_MARGIN_SECONDS = 30


def next_delay(attempt_number: int, result: attempts.AttemptResult) -> float | None:
    """When to try again after a failed attempt, or None when the schedule has run out."""
    delay = attempts.retry_delay(
        settings.webhook_retry_schedule, attempt_number, settings.webhook_retry_jitter
    )
    if delay is not None and result.retry_after_seconds is not None:
        # The partner asked for a pause: never come back sooner than it asked (within a bound), and
        # spread later, not sooner, so that every delivery it paused does not come back at one instant.
        asked = min(result.retry_after_seconds, settings.webhook_retry_after_max_seconds)
        if asked > delay:
            delay = asked * (1 + random.uniform(0, settings.webhook_retry_jitter))
    return delay


# Signing secrets change only when a partner rotates, and then the old one stays valid for a day: a
# few seconds of caching saves a query per delivery.
SECRETS_TTL_SECONDS = 5.0
_secrets: dict[str, tuple[float, list[str]]] = {}


def signing_secrets(partner_id: str) -> list[str]:
    cached = _secrets.get(partner_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    secrets = partners.signing_secrets(partner_id)
    _secrets[partner_id] = (time.monotonic() + SECRETS_TTL_SECONDS, secrets)
    return secrets


# The claims this process's greenlets make at the same moment, and the attempts they finish at the same
# moment, are each written in one statement.
claims: GroupCommit[int, attempts.Claim | None] = GroupCommit(
    lambda delivery_ids: attempts.claim_many(
        delivery_ids, partner_slots.longest_wait + settings.webhook_timeout_seconds + LEASE_MARGIN_SECONDS
    )
)
outcomes: GroupCommit[attempts.Outcome, bool] = GroupCommit(attempts.write_outcomes)


def claim_delivery(delivery_id: int) -> attempts.Claim | None:
    # A greenlet queued behind the writer holds no connection: the writer may need one from the pool.
    close_connection()
    return claims.submit(delivery_id)


def write_outcome(outcome: attempts.Outcome) -> bool:
    close_connection()  # as for a claim
    return outcomes.submit(outcome)


def attempt(claim: attempts.Claim) -> attempts.AttemptResult:
    body = claim.payload.encode()
    secrets = signing_secrets(claim.partner_id)
    close_connection()  # hold no database connection while waiting on the partner
    headers = signing.signed_headers(secrets, claim.webhook_id, body)
    return sender.post(
        claim.url,
        body,
        headers,
        settings.webhook_timeout_seconds,
        allow_private=settings.webhook_allow_private_networks,
    )


def attempt_in_partners_slot(claim: attempts.Claim) -> attempts.AttemptResult | None:
    """Attempt the delivery if its partner has a free slot in this process; None if it has not."""
    token = partner_slots.acquire(claim.partner_id)
    if token is None:
        return None
    succeeded = False
    try:
        result = attempt(claim)
        succeeded = result.succeeded
        return result
    finally:
        partner_slots.release(claim.partner_id, token, succeeded=succeeded)


@dramatiq.actor(actor_name="deliver_webhook", queue_name="webhooks", max_retries=10, min_backoff=500)
def deliver_webhook(delivery_id: int) -> None:
    """Idempotent: only a claimable delivery is attempted. Dramatiq retries infrastructure errors only,
    and a failure after the claim hands the delivery back first, so that the retry can take it."""
    claimed = claim_delivery(delivery_id)
    if claimed is None:
        wake_again_if_early(delivery_id)
        return
    try:
        deliver(claimed)
    except BaseException:  # an error, or the worker stopping (Shutdown, GreenletExit)
        hand_back(claimed)
        raise


# Hosts' clocks differ: by the clock of the worker it reaches, a wake-up may come a little before its row
# is due (stamped by the API's host, or by another worker's). It is sent again for the rest of the wait,
# rather than left to the sweeper for a minute and more. A wake-up further ahead than this is a stale
# duplicate (the row was rescheduled since), and is dropped.
EARLY_WAKE_UP_SECONDS = 5.0


def wake_again_if_early(delivery_id: int) -> None:
    wait = attempts.seconds_until_due(delivery_id)
    if wait is not None and 0 < wait <= EARLY_WAKE_UP_SECONDS:
        dispatch(deliver_webhook, delivery_id, delay_seconds=wait)


def deliver(claim: attempts.Claim) -> None:
    if claim.endpoint_disabled:
        attempts.hold(claim)
        metrics.deliveries.labels(deliveries.HELD).inc()
        return
    result = attempt_in_partners_slot(claim)
    if result is None:
        wait = partner_slots.wait_before_retrying(claim.partner_id, settings.webhook_timeout_seconds)
        if attempts.defer(claim, wait):
            dispatch(deliver_webhook, claim.delivery_id, delay_seconds=wait)
        metrics.deliveries.labels("deferred").inc()
        return
    delay = None if result.succeeded else next_delay(claim.attempt_number, result)
    state = attempts.record_attempt(
        claim,
        result,
        delay,
        disable_after=timedelta(seconds=settings.endpoint_disable_after_seconds),
        write=write_outcome,
    )
    observe(claim, result, state, delay)
    if state == deliveries.RETRYING:
        dispatch(deliver_webhook, claim.delivery_id, delay_seconds=delay)


def hand_back(claim: attempts.Claim) -> None:
    """Make the delivery due again now instead of leaving it claimed until its lease lapses. Best
    effort: when the database is what failed, the lease lapses and the sweeper sends it again."""
    try:
        attempts.defer(claim, 0)
    except Exception:
        logger.warning("could not hand delivery %s back; its lease will lapse", claim.delivery_id)
    finally:
        close_connection()


def observe(
    claim: attempts.Claim, result: attempts.AttemptResult, state: str | None, delay: float | None
) -> None:
    """One log line and the metrics for an attempt. ``state`` is None when the claim had lapsed."""
    outcome = state or "lapsed"
    metrics.deliveries.labels(outcome).inc()
    metrics.attempt_duration.labels(metrics.attempt_result(result.status_code)).observe(
        result.duration_ms / 1000
    )
    if state == deliveries.SUCCEEDED:
        metrics.delivery_latency.observe((utcnow() - claim.created_at).total_seconds())
    logger.log(
        logging.INFO if result.succeeded else logging.WARNING,
        "webhook attempt %s: %s",
        outcome,
        result.status_code or result.error,
        extra={
            "event": "webhook.attempt",
            "delivery_id": claim.delivery_id,
            "webhook_id": claim.webhook_id,
            "order_id": claim.order_id,
            "partner_id": claim.partner_id,
            "attempt": claim.attempt_number,
            "trigger": claim.trigger,
            "status_code": result.status_code,
            "error": result.error,
            "duration_ms": result.duration_ms,
            "outcome": outcome,
            "retry_in_seconds": delay if state == deliveries.RETRYING else None,
        },
    )


def enqueue(delivery: deliveries.Delivery) -> bool:
    """Send the first wake-up for a delivery just committed."""
    return dispatch(deliver_webhook, delivery.id)


def send_now(delivery_ids: list[int]) -> bool:
    """Wake-ups for deliveries just made due (re-queued, or released from hold), in one round trip.
    False when the broker stayed away: the sweeper sends them."""
    return dispatch_many(deliver_webhook, [(delivery_id,) for delivery_id in delivery_ids])


def send_batches_now(batches: Iterable[list[int]]) -> int:
    """``send_now`` for each batch as it is made due; returns how many were. Once the broker has stayed
    away, the later batches are left to the sweeper without asking it again: each ask could wait
    REDIS_TIMEOUT_SECONDS, and a large re-queue would outlast the request."""
    made_due, reachable = 0, True
    for batch in batches:
        reachable = reachable and send_now(batch)
        made_due += len(batch)
    return made_due
