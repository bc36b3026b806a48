"""Idle consumers are woken by a token for each message they can take now, and only for those; busy
ones fetch in batches and acknowledge together."""

import os
import threading
import uuid

import pytest
import redis
from dramatiq.broker import MessageProxy
from dramatiq.errors import ConnectionClosed

from tests.conftest import SERVICE_TIER
from tests.helpers import wait_until
from workers.delivery import deliver_webhook
from workers.group_commit import WriterStopped
from workers.redis_pipeline import Pipeline
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


def unacknowledged(broker: WakingRedisBroker, queue_name: str) -> int:
    """Messages Redis still holds for ``queue_name``: kept until acknowledged."""
    return broker.client.hlen(f"{broker.namespace}:{queue_name}.msgs")


def test_an_acknowledged_message_leaves_redis(waking_broker):
    for n in range(3):
        waking_broker.enqueue(deliver_webhook.message(n))
    consumer = waking_broker.consume("webhooks", prefetch=8, timeout=1000)
    taken = [next(consumer) for _ in range(3)]

    consumer.ack(taken[0])
    assert unacknowledged(waking_broker, "webhooks") == 2
    for message in taken[1:]:
        consumer.ack(message)

    assert unacknowledged(waking_broker, "webhooks") == 0
    assert consumer.outstanding_message_count == 0


def count_round_trips(broker: WakingRedisBroker, monkeypatch, before_sending=None) -> list[int]:
    """Each pipeline the broker's client sends, by its number of commands; ``before_sending()`` is
    called as each is about to go (to hold it, say)."""
    sent: list[int] = []
    pipeline = broker.client.pipeline

    def counted(*args, **kwargs):
        real = pipeline(*args, **kwargs)
        execute = real.execute

        def execute_and_count(*a, **kw):
            sent.append(len(real.command_stack))
            if before_sending is not None:
                before_sending()
            return execute(*a, **kw)

        real.execute = execute_and_count
        return real

    monkeypatch.setattr(broker.client, "pipeline", counted)
    return sent


def test_acks_made_at_the_same_moment_travel_together(waking_broker, monkeypatch):
    for n in range(20):
        waking_broker.enqueue(deliver_webhook.message(n))
    consumer = waking_broker.consume("webhooks", prefetch=40, timeout=1000)
    taken = [next(consumer) for _ in range(20)]
    first_sent, release = threading.Event(), threading.Event()

    def hold_until_released():
        first_sent.set()
        release.wait(5)

    sent = count_round_trips(waking_broker, monkeypatch, before_sending=hold_until_released)
    first = threading.Thread(target=consumer.ack, args=(taken[0],))
    first.start()
    first_sent.wait(5)
    others = [threading.Thread(target=consumer.ack, args=(message,)) for message in taken[1:]]
    for thread in others:
        thread.start()
    wait_until(lambda: len(consumer.acks._queued) == 19)
    release.set()
    for thread in [first, *others]:
        thread.join(5)

    assert sent == [1, 19]  # the first alone, the 19 that came meanwhile in one round trip
    assert unacknowledged(waking_broker, "webhooks") == 0


def test_an_ack_redis_cannot_take_fails_as_dramatiq_expects_so_that_it_is_retried():
    unreachable = WakingRedisBroker(url="redis://127.0.0.1:1", namespace="courier-test-unreachable")
    consumer = unreachable.consume("webhooks", prefetch=8, timeout=1000)
    message = MessageProxy(deliver_webhook.message(1).copy(options={"redis_message_id": "1"}))

    with pytest.raises(ConnectionClosed):  # Dramatiq's worker retries the ack until Redis is back
        consumer.ack(message)


def forget_scripts(broker: WakingRedisBroker) -> None:
    """As if Redis had restarted without persistence since the broker loaded its script: its calls
    answer NOSCRIPT (done to this broker's handle alone, not to the server other tests share)."""
    broker.scripts["dispatch"].sha = "0" * 40


def test_acks_still_go_through_after_redis_forgot_its_scripts(waking_broker):
    waking_broker.enqueue(deliver_webhook.message(1))
    consumer = waking_broker.consume("webhooks", prefetch=8, timeout=1000)
    message = next(consumer)
    forget_scripts(waking_broker)

    consumer.ack(message)

    assert unacknowledged(waking_broker, "webhooks") == 0


def test_an_ack_whose_batch_was_cut_short_is_sent_again_by_dramatiq(waking_broker, monkeypatch):
    waking_broker.enqueue(deliver_webhook.message(1))
    consumer = waking_broker.consume("webhooks", prefetch=8, timeout=1000)
    message = next(consumer)

    def stopped_mid_batch(item):
        raise WriterStopped()

    monkeypatch.setattr(consumer.acks, "submit", stopped_mid_batch)
    with pytest.raises(ConnectionClosed):  # what Dramatiq's worker retries, as when Redis is gone
        consumer.ack(message)


def test_a_message_and_its_wake_up_token_travel_in_one_round_trip(waking_broker, monkeypatch):
    sent = count_round_trips(waking_broker, monkeypatch)

    waking_broker.enqueue(deliver_webhook.message(1))

    assert sent == [3]  # the enqueue, and the token pushed and trimmed
    assert waking_broker.client.llen(f"{waking_broker.namespace}:webhooks") == 1


def test_messages_enqueued_together_reach_redis_when_the_block_ends_in_one_round_trip(
    waking_broker, monkeypatch
):
    sent = count_round_trips(waking_broker, monkeypatch)

    with waking_broker.enqueued_together():
        waking_broker.enqueue(deliver_webhook.message(1))
        waking_broker.enqueue(deliver_webhook.message(2), delay=60_000)  # a timer: no token
        assert waking_broker.client.llen(f"{waking_broker.namespace}:webhooks") == 0

    assert sent == [4]
    assert waking_broker.client.llen(f"{waking_broker.namespace}:webhooks") == 1
    assert waking_broker.client.llen(f"{waking_broker.namespace}:webhooks.DQ") == 1
    assert tokens(waking_broker, "webhooks") == 1


def test_a_block_that_raises_enqueues_nothing(waking_broker):
    with pytest.raises(RuntimeError), waking_broker.enqueued_together():
        waking_broker.enqueue(deliver_webhook.message(1))
        raise RuntimeError("the caller changed its mind")

    assert waking_broker.client.llen(f"{waking_broker.namespace}:webhooks") == 0
    assert tokens(waking_broker, "webhooks") == 0


def test_messages_still_go_through_after_redis_forgot_its_scripts_with_the_token_after_them(
    waking_broker, monkeypatch
):
    forget_scripts(waking_broker)
    sent = count_round_trips(waking_broker, monkeypatch)

    waking_broker.enqueue(deliver_webhook.message(1))

    # Refused for want of the script, then sent again with its token after it, so that a consumer the
    # token wakes finds the message.
    assert sent == [3, 3]
    assert waking_broker.client.llen(f"{waking_broker.namespace}:webhooks") == 1
    assert tokens(waking_broker, "webhooks") >= 1


class RecordedPipeline:
    """A redis-py pipeline that records its commands and sends nothing."""

    def __init__(self):
        self.commands: list[tuple] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def evalsha(self, sha, numkeys, *keys_and_args):
        self.commands.append(keys_and_args)

    def execute(self, raise_on_error=True):
        return [None] * len(self.commands)


def test_the_pipelines_script_calls_are_those_dramatiq_makes(waking_broker, monkeypatch):
    """workers/redis_pipeline.py repeats what RedisBroker._dispatch passes its script: a Dramatiq upgrade
    that changes it fails here."""
    monkeypatch.setattr("dramatiq.brokers.redis.current_millis", lambda: 1_000)
    monkeypatch.setattr("workers.redis_pipeline.current_millis", lambda: 1_000)
    dramatiq_calls = []

    class RecordedScript:
        sha = waking_broker.scripts["dispatch"].sha

        def __call__(self, keys, args):
            dramatiq_calls.append((*keys, *args))

    monkeypatch.setitem(waking_broker.scripts, "dispatch", RecordedScript())
    waking_broker.do_ack("webhooks", "message-1")
    recorded = RecordedPipeline()
    monkeypatch.setattr(waking_broker.client, "pipeline", lambda **_: recorded)
    pipeline = Pipeline(waking_broker)
    pipeline.script("ack", "webhooks", "message-1")
    pipeline.send()

    assert recorded.commands == dramatiq_calls
