"""Sending messages after a commit, riding out a broker hiccup.

A message that cannot be sent is not an error for the caller: its row is already committed, and the
sweeper sends every overdue row again. So a short burst of retries (tenacity) covers a broker restart,
and past that the send is given up with a warning rather than failing the request that wrote the row.

Code that runs inside a transaction it does not own (a view wrapped by the idempotency layer) sends
inside ``after_commit()``: the messages wait until the block ends, and are dropped if it fails. The
block's messages are then sent together, in one round trip to Redis; code that sends several messages
at once (an order's webhook and its window's timer) uses the block for that alone.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar

import dramatiq
import redis
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

logger = logging.getLogger(__name__)

# Retried: the broker may be back within the burst (a restart refuses connections; a failover's old
# primary answers READONLY until the address moves). Any other broker error leaves the messages to the
# sweeper at once; so does a timeout, which has already waited REDIS_TIMEOUT_SECONDS: retried, a Redis
# that stopped answering would hold the request four times as long.
TRANSIENT = (
    redis.ConnectionError,
    redis.ReadOnlyError,
    dramatiq.errors.BrokerConnectionError,
)


Held = tuple[dramatiq.Actor, tuple, float | None]  # an actor, its arguments, a delay in seconds


@retry(
    retry=retry_if_exception_type(TRANSIENT),
    stop=stop_after_attempt(4),
    wait=wait_exponential(multiplier=0.05, max=0.5),
    reraise=True,
)
def _send(messages: list[Held]) -> None:
    # The Redis broker sends the messages together; a retry may send again some that went through
    # (a wake-up or a timer twice), which their actors, idempotent, shrug off.
    together = getattr(messages[0][0].broker, "enqueued_together", nullcontext)
    with together():
        for actor, args, delay_seconds in messages:
            # Rounded up: a message delayed "until T" must not wake before T.
            delay_ms = None if delay_seconds is None else max(0, math.ceil(delay_seconds * 1000))
            actor.send_with_options(args=args, delay=delay_ms)


_held: ContextVar[list[Held] | None] = ContextVar("held_messages", default=None)


@contextmanager
def after_commit() -> Iterator[None]:
    """Hold every message sent in the block; send them when it ends cleanly, drop them if it raises.

    Wrap the transaction in it (``with after_commit(), db.atomic():``): the transaction commits first.
    """
    if _held.get() is not None:  # already inside one: the outer block sends
        yield
        return
    held: list[Held] = []
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
    if held:
        _send_or_leave(held)


def dispatch(actor: dramatiq.Actor, *args, delay_seconds: float | None = None) -> bool:
    """Enqueue ``actor(*args)``, after ``delay_seconds`` if given. False when the broker stayed away."""
    held = _held.get()
    if held is not None:
        held.append((actor, args, delay_seconds))
        return True
    return _send_or_leave([(actor, args, delay_seconds)])


def dispatch_many(actor: dramatiq.Actor, calls: Iterable[tuple]) -> bool:
    """Enqueue ``actor(*args)`` for each ``args`` in ``calls``, in one round trip. False when the broker
    stayed away."""
    messages: list[Held] = [(actor, args, None) for args in calls]
    held = _held.get()
    if held is not None:
        held.extend(messages)
        return True
    return not messages or _send_or_leave(messages)


def _send_or_leave(messages: list[Held]) -> bool:
    try:
        _send(messages)
    except (redis.RedisError, dramatiq.errors.BrokerError):  # out of memory, say: the rows are committed
        left = ", ".join(f"{actor.actor_name}{args!r}" for actor, args, _ in messages)
        logger.warning("broker unavailable; %s left for the sweeper", left, exc_info=True)
        return False
    return True
