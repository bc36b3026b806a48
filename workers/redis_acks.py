"""Acknowledging Redis messages together: the acks a process's greenlets make at the same moment, in one
round trip.

Dramatiq's Redis consumer acknowledges each message as its actor returns, with one call of its dispatch
script: under load one Redis round trip per delivery, which a ``py-spy`` profile of the worker put at a
sixth of its CPU (docs/PERFORMANCE.md). Here an ack joins whatever other acks are being sent from its
process (a ``GroupCommit``), and a batch travels as one pipeline of those same script calls. An ack
still returns only once Redis has it: a message is never counted done before its queue knows.
"""

from __future__ import annotations

from collections.abc import Sequence

from dramatiq.brokers.redis import RedisBroker

from workers.group_commit import GroupCommit
from workers.redis_pipeline import Pipeline


def ack_together(broker: RedisBroker, queue_name: str) -> GroupCommit[str, object]:
    """A group commit of acks on ``queue_name`` (Redis message ids), each sent as Dramatiq sends one."""

    def ack_many(message_ids: Sequence[str]) -> list[object]:
        pipeline = Pipeline(broker)
        for message_id in message_ids:
            pipeline.script("ack", queue_name, message_id)
        # An error Redis answers one call with (out of memory, say) is that ack's alone: it is returned
        # in its place, for its own greenlet to raise.
        return pipeline.send(raise_on_error=False)

    # A connection that fails fails the whole batch: trying each ack alone would only repeat the
    # failure, once per greenlet waiting.
    return GroupCommit(ack_many, retry_items_alone=False)
