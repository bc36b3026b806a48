"""A Redis that stops answering, without closing the connection, fails each call after
REDIS_TIMEOUT_SECONDS (0.2 s here; redis-py's own default is 5 s), in the ways the callers recover
from; it does not hold them for ever."""

import socket
import threading

import dramatiq
import pytest
import redis
from dramatiq.broker import MessageProxy
from dramatiq.errors import ConnectionClosed

from workers import delivery
from workers.delivery import deliver_webhook
from workers.dispatch import dispatch
from workers.redis_wakeup import WakingRedisBroker


@pytest.fixture
def silent_redis():
    """An address that takes connections (the kernel completes them) and never answers a byte, as a
    server behind a partition, or a paused one, looks to a client. Yields its URL and a function that
    counts the connections made to it so far."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.setblocking(False)
    accepted = []

    def connections_made() -> int:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except BlockingIOError:
                return len(accepted)

    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0", connections_made
    for connection in accepted:
        connection.close()
    listener.close()


def silent_broker(url: str) -> WakingRedisBroker:
    return WakingRedisBroker(url=url, namespace="courier-test-silent", timeout_seconds=0.2)


def within(seconds: float, call):
    """What ``call`` returned or raised, failing the test if it was still waiting after ``seconds``."""
    outcome: list[object] = []

    def run():
        try:
            outcome.append(call())
        except BaseException as e:  # handed to the test
            outcome.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still waiting for Redis after {seconds} s"
    return outcome[0]


def test_an_order_whose_messages_time_out_asks_redis_once_and_leaves_them_to_the_sweeper(silent_redis):
    url, connections_made = silent_redis
    broker = silent_broker(url)
    wake_up = dramatiq.Actor(
        lambda delivery_id: None,
        broker=broker,
        actor_name="deliver_webhook",
        queue_name="webhooks",
        priority=0,
        options={},
    )

    assert within(3, lambda: dispatch(wake_up, 1)) is False  # the API answers; the sweeper sends it
    assert connections_made() == 1  # not retried: it had already waited its REDIS_TIMEOUT_SECONDS
    assert isinstance(within(3, lambda: broker.enqueue(deliver_webhook.message(1))), redis.TimeoutError)


def test_after_one_batch_the_broker_would_not_take_the_others_are_left_to_the_sweeper(monkeypatch):
    asked = []
    monkeypatch.setattr(delivery, "dispatch_many", lambda actor, calls: asked.append(list(calls)) and False)

    made_due = delivery.send_batches_now(iter([[1, 2], [3], [4, 5]]))

    assert made_due == 5
    assert asked == [[(1,), (2,)]]


def test_a_consumer_reconnects_rather_than_dying_when_redis_stops_answering(silent_redis):
    url, _ = silent_redis
    consumer = silent_broker(url).consume("webhooks", prefetch=8, timeout=1000)
    message = MessageProxy(deliver_webhook.message(1).copy(options={"redis_message_id": "1"}))

    # A fetch's timeout is Dramatiq's to handle: it gives back the delayed messages it holds, and the
    # giving back, if Redis is still away, fails as a closed connection, which its thread survives.
    assert isinstance(within(3, lambda: next(consumer)), redis.TimeoutError)
    assert isinstance(within(3, lambda: consumer.requeue([message])), ConnectionClosed)
    # Acknowledgements are retried by Dramatiq's worker until Redis answers again.
    assert isinstance(within(3, lambda: consumer.ack(message)), ConnectionClosed)
    assert isinstance(within(3, lambda: consumer.nack(message)), ConnectionClosed)


def test_an_idle_consumer_waits_for_a_wake_up_less_long_than_a_call_may_take():
    broker = WakingRedisBroker(url="redis://127.0.0.1:1/0", namespace="courier-test-idle", timeout_seconds=1)

    assert broker.consume("webhooks", prefetch=8, timeout=5000).idle_seconds == 0.5
    assert broker.consume("webhooks", prefetch=8, timeout=200).idle_seconds == 0.2
