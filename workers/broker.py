"""The Dramatiq broker, built from the environment and set before any actor is declared.

``REDIS_URL`` set: the Redis broker, whose queues and delayed messages outlive any process.
Unset: Dramatiq's in-memory broker, for the embedded mode (``make run``) and the first test tier; its
messages live and die with the process, and the sweeper re-sends what a restart lost.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware
from dramatiq.threading import is_gevent_active

import settings as settings_module
from models.db import close_connection, init_db
from workers.isolation import PartnerSlots
from workers.redis_wakeup import WakingRedisBroker

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

    def get_declared_queues(self) -> set[str]:
        return set(self.queues) - self.delay_queues


def build_broker() -> dramatiq.Broker:
    if settings.redis_url:
        broker: dramatiq.Broker = WakingRedisBroker(
            url=settings.redis_url, namespace=settings.redis_namespace
        )
    else:
        broker = InMemoryBroker()
    broker.add_middleware(DatabaseConnections())
    broker.add_middleware(partner_slots)
    return broker


partner_slots = PartnerSlots(settings.webhook_partner_share, settings.webhook_failing_partner_slots)
broker = build_broker()
dramatiq.set_broker(broker)
