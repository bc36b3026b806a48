"""Idle consumers are woken by a token for each message they can take now, and only for those."""

import os
import uuid

import pytest
import redis

from tests.conftest import SERVICE_TIER
from workers.delivery import deliver_webhook
from workers.redis_wakeup import WakingRedisBroker

pytestmark = pytest.mark.skipif(not SERVICE_TIER, reason="the waking broker is the Redis broker")


@pytest.fixture
def waking_broker():
    namespace = f"courier-test-wakeup-{uuid.uuid4().hex[:8]}"
    broker = WakingRedisBroker(url=os.environ["REDIS_URL"], namespace=namespace)
    broker.declare_queue("webhooks")
    yield broker
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    for key in client.scan_iter(match=f"{namespace}*"):
        client.delete(key)


def tokens(broker: WakingRedisBroker, queue_name: str) -> int:
    return broker.client.llen(broker.wake_key(queue_name))


def test_a_message_due_now_wakes_the_queues_consumers(waking_broker):
    waking_broker.enqueue(deliver_webhook.message(1))

    assert tokens(waking_broker, "webhooks") == 1


def test_a_message_due_later_wakes_nobody_since_the_delay_queue_is_looked_at_long_before(waking_broker):
    waking_broker.enqueue(deliver_webhook.message(1), delay=60_000)

    assert waking_broker.client.llen(f"{waking_broker.namespace}:webhooks.DQ") == 1  # enqueued
    assert tokens(waking_broker, "webhooks.DQ") == 0
    assert tokens(waking_broker, "webhooks") == 0


def test_a_full_consumer_fetches_again_in_batches_not_one_message_per_acknowledgement(waking_broker):
    for n in range(20):
        waking_broker.enqueue(deliver_webhook.message(n))
    consumer = waking_broker.consume("webhooks", prefetch=8, timeout=1000)
    taken = [next(consumer) for _ in range(8)]  # one fetch of 8: every slot taken

    consumer.ack(taken.pop())
    assert next(consumer) is None  # one slot free: not worth a round trip

    consumer.ack(taken.pop())
    refilled = next(consumer)  # a quarter of the prefetch free: fetched together
    assert refilled is not None
    assert len(consumer.message_cache) == 1
