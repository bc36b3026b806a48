"""The Dramatiq broker, built from the environment and set before any actor is declared.

``REDIS_URL`` set: the Redis broker, whose queues and delayed messages outlive any process.
Unset: Dramatiq's in-memory broker, for the embedded mode (``make run``) and the first test tier; its
messages live and die with the process, and the sweeper re-sends what a restart lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name, xq_name
from dramatiq.middleware import Middleware
from dramatiq.threading import is_gevent_active

import settings as settings_module
from models.db import close_connection, init_db
from workers.isolation import PartnerSlots
from workers.metrics import MessageMetrics
from workers.redis_wakeup import WakingRedisBroker
from workers.shutdown import DynoShutdown
from workers.tracing import JsonLogs, RequestIdPropagation

settings = settings_module.load()

if is_gevent_active():
    # Under ``dramatiq-gevent`` a worker runs hundreds of greenlets. psycopg2 must then wait for the
    # database cooperatively, or one greenlet's query would stall every other in its process.
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()


class DatabaseConnections(Middleware):
    """Binds the database when a worker boots and returns each message's connection when it ends."""

    def before_worker_boot(self, broker, worker):
        init_db(settings.database_url, pool_size=settings.database_pool_size)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        close_connection()

    after_skip_message = after_process_message


class InMemoryBroker(StubBroker):
    """Dramatiq's in-memory broker, with its delay queues reported as such.

    ``StubBroker`` lists its delay queues among the ordinary ones, so a worker consumes them with the
    work queues' small prefetch (two per thread): a handful of messages delayed by a minute, such as
    processing-window timers, would then hold every later delayed message (retries included) until
    they fall due. Reported apart, they get the delay prefetch a Redis-backed worker gives them.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.worker_booted = False

    def get_declared_queues(self) -> set[str]:
        return set(self.queues) - self.delay_queues

    def emit_before(self, signal: str, *args, **kwargs) -> None:
        if signal == "worker_boot":
            self.worker_booted = True
        super().emit_before(signal, *args, **kwargs)


def reaches_a_worker() -> bool:
    """Whether a message sent from this process can reach a worker at all.

    Through Redis, always. In memory, only when this process runs a worker itself (``make run``, the
    tests): a CLI command beside ``make run`` has a broker of its own, which nobody consumes.
    """
    return not isinstance(broker, InMemoryBroker) or broker.worker_booted


def build_broker() -> dramatiq.Broker:
    if settings.redis_url:
        broker: dramatiq.Broker = WakingRedisBroker(
            url=settings.redis_url,
            namespace=settings.redis_namespace,
            timeout_seconds=settings.redis_timeout_seconds,
        )
    else:
        broker = InMemoryBroker()
    broker.add_middleware(DatabaseConnections())
    broker.add_middleware(partner_slots)
    broker.add_middleware(JsonLogs(settings.log_level))
    broker.add_middleware(RequestIdPropagation())
    broker.add_middleware(MessageMetrics())
    broker.add_middleware(DynoShutdown())
    return broker


def ping_broker(timeout: float) -> str:
    """Raise unless the broker answers within ``timeout`` seconds; say which broker answered."""
    if not isinstance(broker, RedisBroker):
        return "in-memory"
    # A client of its own, with timeouts: the broker's client may wait on a dead server for minutes.
    client = redis.Redis.from_url(
        settings.redis_url or "", socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        client.ping()
    finally:
        client.close()
    return "redis"


@dataclass(frozen=True)
class QueueSize:
    queue: str
    ready: int  # waiting for a worker
    delayed: int  # not due yet (retries, window timers), wherever they wait
    dead_lettered: int  # given up on by Dramatiq after its own retries


def queue_sizes() -> list[QueueSize]:
    """The size of every queue an actor is declared on, read from the broker now."""
    names = sorted({actor.queue_name for actor in broker.actors.values()})
    if isinstance(broker, RedisBroker):
        # Dramatiq's Redis layout: a list of ready ids per queue, and a hash of every message not yet
        # acknowledged, per queue and per delay queue (a delayed message a worker already holds in
        # memory stays in that hash until it is processed).
        with broker.client.pipeline(transaction=False) as pipe:
            for name in names:
                prefix = f"{broker.namespace}:"
                pipe.llen(prefix + name)
                pipe.hlen(prefix + dq_name(name) + ".msgs")
                pipe.zcard(prefix + xq_name(name))
            counts = pipe.execute()
        return [QueueSize(name, *counts[i * 3 : i * 3 + 3]) for i, name in enumerate(names)]
    if not isinstance(broker, StubBroker):
        return []
    queues = broker.queues
    return [
        QueueSize(
            name,
            queues[name].qsize() if name in queues else 0,
            queues[dq_name(name)].qsize() if dq_name(name) in queues else 0,
            len(broker.dead_letters_by_queue.get(name, ())),
        )
        for name in names
    ]


partner_slots = PartnerSlots(
    settings.webhook_partner_share, settings.webhook_failing_partner_slots, settings.webhook_timeout_seconds
)
broker = build_broker()
dramatiq.set_broker(broker)
