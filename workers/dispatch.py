"""Sending messages after a commit, riding out a broker hiccup.

A message that cannot be sent is not an error for the caller: its row is already committed, and the
sweeper sends every overdue row again. So a short burst of retries (tenacity) covers a broker restart,
and past that the send is given up with a warning rather than failing the request that wrote the row.

Code that runs inside a transaction it does not own (a view wrapped by the idempotency layer) sends
inside ``after_commit()``: the messages wait until the block ends, and are dropped if it fails.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import dramatiq
import redis
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

logger = logging.getLogger(__name__)

TRANSIENT = (redis.ConnectionError, redis.TimeoutError, dramatiq.errors.BrokerConnectionError)


@retry(
    retry=retry_if_exception_type(TRANSIENT),
    stop=stop_after_attempt(4),
    wait=wait_exponential(multiplier=0.05, max=0.5),
    reraise=True,
)
def _send(actor: dramatiq.Actor, args: tuple, delay_ms: int | None) -> None:
    actor.send_with_options(args=args, delay=delay_ms)


_held: ContextVar[list[tuple[dramatiq.Actor, tuple, float | None]] | None] = ContextVar(
    "held_messages", default=None
)


@contextmanager
def after_commit() -> Iterator[None]:
    """Hold every message sent in the block; send them when it ends cleanly, drop them if it raises.

    Wrap the transaction in it (``with after_commit(), db.atomic():``): the transaction commits first.
    """
    if _held.get() is not None:  # already inside one: the outer block sends
        yield
        return
    held: list[tuple[dramatiq.Actor, tuple, float | None]] = []
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
    for actor, args, delay_seconds in held:
        dispatch(actor, *args, delay_seconds=delay_seconds)


def dispatch(actor: dramatiq.Actor, *args, delay_seconds: float | None = None) -> bool:
    """Enqueue ``actor(*args)``, after ``delay_seconds`` if given. False when the broker stayed away."""
    held = _held.get()
    if held is not None:
        held.append((actor, args, delay_seconds))
        return True
    # Rounded up: a message delayed "until T" must not wake before T.
    delay_ms = None if delay_seconds is None else max(0, math.ceil(delay_seconds * 1000))
    try:
        _send(actor, args, delay_ms)
    except TRANSIENT:
        logger.warning("broker unreachable; %s%r left for the sweeper", actor.actor_name, args, exc_info=True)
        return False
    return True
