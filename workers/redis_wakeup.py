"""Dramatiq's Redis broker, woken by new messages instead of polling for them.

An idle Dramatiq consumer polls Redis, backing off up to the worker timeout between polls. That trade
is poor for webhooks: at a one-second timeout an order may wait up to a second before a worker looks,
and at ten milliseconds an idle worker process spends a quarter of a core polling (measured; see
docs/PERFORMANCE.md). Here every enqueue also pushes a token onto a small per-queue list, and an idle
consumer blocks on that list (BLPOP) for up to the worker timeout: it wakes within a round trip of a
message arriving and costs nothing while nothing does.

Tokens are hints, never the truth: a consumer always fetches through Dramatiq's own script, a stale
token costs one empty fetch, and a lost one only means waiting out the timeout as before.

Both sides also spend fewer round trips: a message and its token travel together, as do the messages
a request sends in one ``enqueued_together()`` block; a full consumer fetches again in batches, and its
acknowledgements travel together (workers/redis_acks.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.errors import ConnectionClosed
from dramatiq.message import Message

from workers.group_commit import WriterStopped
from workers.redis_acks import ack_together
from workers.redis_pipeline import Pipeline

# Enough tokens to wake every consumer that could be waiting; more would only be stale.
MAX_TOKENS = 1000
# A delay-queue consumer also moves its held messages to the work queue when their time comes, which
# it can only do between waits: it waits no longer than this.
DELAY_QUEUE_WAIT_SECONDS = 0.25
# Every thread busy and enough fetched to keep them so: look again shortly.
AT_CAPACITY_WAIT_SECONDS = 0.002
# A full consumer fetches again only once this share of its prefetch is free, in one round trip.
# Dramatiq's consumer fetches whenever one message is acknowledged: with every thread taken (slow
# endpoints, a backlog) that is one Redis round trip per message fetched, seen in py-spy profiles as
# one of the two costs that grew with the endpoints' latency (the other: connections thrown away, see
# workers/sender.py). What is still fetched keeps every thread busy: a
# prefetch is twice the threads.
REFILL_SHARE = 0.25


# A connection idle this long is pinged before it is used again: one a server or a router closed in the
# meantime (Heroku Redis closes idle ones) is replaced instead of failing the call.
HEALTH_CHECK_SECONDS = 30


class WakingRedisBroker(RedisBroker):
    def __init__(self, *, url: str, timeout_seconds: float = 5.0, **kwargs):
        # A Redis that stops answering without closing the connection (a partition, a paused server)
        # must fail each call, not hold an API request or a consumer: REDIS_TIMEOUT_SECONDS, where
        # Dramatiq would take redis-py's default (none before redis-py 8, 5 s since).
        pool = redis.ConnectionPool.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            socket_keepalive=True,
            health_check_interval=HEALTH_CHECK_SECONDS,
        )
        super().__init__(connection_pool=pool, **kwargs)
        self.timeout_seconds = timeout_seconds
        self._together: ContextVar[Pipeline | None] = ContextVar(
            f"enqueued_together_{id(self)}", default=None
        )

    def wake_key(self, queue_name: str) -> str:
        return f"{self.namespace}:{queue_name}.wake"

    @contextmanager
    def enqueued_together(self) -> Iterator[None]:
        """The messages enqueued in the block reach Redis when it ends, with their wake-up tokens, in one
        round trip (an order's webhook and its window's timer); none does if the block raises. The
        block's end raises what sending raised: use it through ``workers.dispatch.after_commit``,
        which retries a failed send and leaves the messages to the sweeper after that."""
        if self._together.get() is not None:  # inside another block: it sends
            yield
            return
        pipeline = Pipeline(self)
        token = self._together.set(pipeline)
        try:
            yield
        finally:
            self._together.reset(token)
        if pipeline:
            pipeline.send()

    def enqueue(self, message: Message, *, delay: int | None = None) -> Message:
        with self.enqueued_together():
            enqueued = super().enqueue(message, delay=delay)  # calls do_enqueue
            # A message due later needs no token: the delay queue's consumer looks at least every
            # DELAY_QUEUE_WAIT_SECONDS anyway, long before it is due.
            if delay is None or delay <= DELAY_QUEUE_WAIT_SECONDS * 1000:
                key = self.wake_key(enqueued.queue_name)
                pipeline = self._together.get()
                assert pipeline is not None
                pipeline.command("LPUSH", key, 1)
                pipeline.command("LTRIM", key, 0, MAX_TOKENS - 1)
        return enqueued

    def do_enqueue(self, queue_name: str, message_id: str, data: bytes) -> None:
        # RedisBroker.enqueue's call of its script, added to the block's round trip instead of its own.
        pipeline = self._together.get()
        assert pipeline is not None, "enqueue() opens the block"
        pipeline.script("enqueue", queue_name, message_id, data)

    @property
    def consumer_class(self):
        return _WakingConsumer


class _WakingConsumer(_RedisConsumer):
    def __init__(self, broker, queue_name, prefetch, timeout):
        # Dramatiq's consumer sleeps up to ``timeout`` ms when a fetch finds nothing; it is given one
        # millisecond, and the consumer waits for a token instead.
        super().__init__(broker, queue_name, prefetch, timeout=1)
        idle_seconds = timeout / 1000
        if queue_name.endswith(".DQ"):
            idle_seconds = min(idle_seconds, DELAY_QUEUE_WAIT_SECONDS)
        # The wait's answer must come back within the socket's timeout, or every idle wait would fail.
        idle_seconds = min(idle_seconds, broker.timeout_seconds / 2)
        self.idle_seconds = idle_seconds
        self.wake_key = broker.wake_key(queue_name)
        self.refill_at = prefetch - max(1, int(prefetch * REFILL_SHARE))
        self.acks = ack_together(broker, queue_name)

    def ack(self, message):
        # As Dramatiq's consumer acks, but together with the process's other acks of the moment. A batch
        # whose sender was stopped mid-way may or may not have gone through: Dramatiq's worker sends
        # again an ack that raised ConnectionClosed, as it does when Redis is gone, and the script
        # acknowledges a message once however often it is told.
        try:
            reply = self.acks.submit(message.options["redis_message_id"])
        except (redis.ConnectionError, redis.TimeoutError, WriterStopped) as e:
            raise ConnectionClosed(e) from None
        finally:
            self.queued_message_ids.discard(message.message_id)
        if isinstance(reply, Exception):  # refused by Redis, as Dramatiq's own ack would have been
            raise reply

    def nack(self, message):
        with _as_closed_connection(redis.ConnectionError, redis.TimeoutError):
            super().nack(message)

    def requeue(self, messages):
        # Called as the consumer closes, after an error: were this to raise anything but a closed
        # connection, the consumer's thread would end for good, and with it this process's share of the
        # queue. (What it could not give back is given back when the process restarts, and the sweeper
        # and the window backstop do not wait for that.)
        with _as_closed_connection(redis.ConnectionError, redis.TimeoutError):
            super().requeue(messages)

    def __next__(self):
        if not self.message_cache and self.outstanding_message_count > self.refill_at:
            time.sleep(AT_CAPACITY_WAIT_SECONDS)
            return None
        message = super().__next__()
        if message is None and not self.message_cache:
            # As Dramatiq treats its own fetch. A timeout is left as an error: Dramatiq then gives back
            # the delayed messages it holds before reconnecting (it drops them on a closed connection).
            with _as_closed_connection(redis.ConnectionError):
                self.broker.client.blpop([self.wake_key], timeout=self.idle_seconds)
        return message


@contextmanager
def _as_closed_connection(*errors: type[Exception]) -> Iterator[None]:
    """``errors`` raised as Dramatiq's closed connection, on which its worker reconnects, or retries the
    acknowledgement, rather than taking them for a bug."""
    try:
        yield
    except errors as e:
        raise ConnectionClosed(e) from None
