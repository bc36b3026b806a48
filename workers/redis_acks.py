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
from dramatiq.common import current_millis
from redis.exceptions import NoScriptError

from workers.group_commit import GroupCommit


def ack_together(broker: RedisBroker, queue_name: str) -> GroupCommit[str, object]:
    """A group commit of acks on ``queue_name`` (Redis message ids), each sent as Dramatiq sends one."""
    dispatch = broker.scripts["dispatch"]

    def send(message_ids: Sequence[str]) -> list[object]:
        # The arguments RedisBroker._dispatch passes its script (Dramatiq 2.2, pinned), which also beats
        # this worker's heartbeat; an ack never triggers the script's maintenance.
        leading = (
            broker.namespace,
            "ack",
            current_millis(),
            queue_name,
            broker.broker_id,
            broker.heartbeat_timeout,
            broker.dead_message_ttl,
            broker._should_do_maintenance("ack"),
            broker._max_unpack_size(),
        )
        with broker.client.pipeline(transaction=False) as pipeline:
            # EVALSHA itself: a script registered with a pipeline costs a SCRIPT EXISTS round trip on
            # every execute, and this consumer's fetches have loaded it already.
            for message_id in message_ids:
                pipeline.evalsha(dispatch.sha, 1, *leading, message_id)
            return pipeline.execute()

    def ack_many(message_ids: Sequence[str]) -> list[object]:
        try:
            return send(message_ids)
        except NoScriptError:  # Redis restarted (or was flushed) since: load the script again
            dispatch.sha = broker.client.script_load(dispatch.script)
            return send(message_ids)

    # One pipeline succeeds or fails as a whole (Redis gone): trying each ack alone would only repeat
    # the failure, once per greenlet waiting.
    return GroupCommit(ack_many, retry_items_alone=False)
