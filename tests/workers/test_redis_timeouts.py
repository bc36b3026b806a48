"""A Redis that stops answering, without closing the connection, fails each call after
REDIS_TIMEOUT_SECONDS (0.2 s here; redis-py's own default is 5 s), in the ways the callers recover
from; it does not hold them for ever."""

import socket
import threading

import pytest
import redis
from dramatiq.broker import MessageProxy
from dramatiq.errors import ConnectionClosed

from workers.delivery import deliver_webhook
from workers.dispatch import TRANSIENT
from workers.redis_wakeup import WakingRedisBroker


@pytest.fixture
def silent_redis():
    """An address that takes connections (the kernel completes them) and never answers a byte, as a
    server behind a partition, or a paused one, looks to a client."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    listener.close()


def within(seconds: float, call):
    """What ``call`` raised, failing the test if it was still waiting after ``seconds``."""
    outcome: list[BaseException | None] = []

    def run():
        try:
            call()
            outcome.append(None)
        except BaseException as e:  # handed to the test
            outcome.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still waiting for Redis after {seconds} s"
    return outcome[0]


def test_an_enqueue_fails_with_a_timeout_that_the_api_retries_and_then_leaves_to_the_sweeper(silent_redis):
    broker = WakingRedisBroker(url=silent_redis, namespace="courier-test-silent", timeout_seconds=0.2)

    error = within(3, lambda: broker.enqueue(deliver_webhook.message(1)))

    assert isinstance(error, redis.TimeoutError) and isinstance(error, TRANSIENT)


def test_a_consumer_takes_a_timeout_as_a_closed_connection_which_dramatiq_reconnects(silent_redis):
    broker = WakingRedisBroker(url=silent_redis, namespace="courier-test-silent", timeout_seconds=0.2)
    consumer = broker.consume("webhooks", prefetch=8, timeout=1000)
    message = MessageProxy(deliver_webhook.message(1).copy(options={"redis_message_id": "1"}))

    assert isinstance(within(3, lambda: next(consumer)), ConnectionClosed)
    assert isinstance(within(3, lambda: consumer.ack(message)), ConnectionClosed)
    assert isinstance(within(3, lambda: consumer.nack(message)), ConnectionClosed)


def test_an_idle_consumer_waits_for_a_wake_up_less_long_than_a_call_may_take():
    broker = WakingRedisBroker(url="redis://127.0.0.1:1/0", namespace="courier-test-idle", timeout_seconds=1)

    assert broker.consume("webhooks", prefetch=8, timeout=5000).idle_seconds == 0.5
    assert broker.consume("webhooks", prefetch=8, timeout=200).idle_seconds == 0.2
