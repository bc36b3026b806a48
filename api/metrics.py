"""``GET /metrics``: Prometheus's text format, for a scraper holding ``METRICS_TOKEN`` or an operator.

A dedicated token lets a scraper read the metrics without holding a key that can also create partners
and read every order; an operator key works too, so that a person can look with what they have.

Most series are counted where things happen (``api/instrumentation.py``, ``workers/metrics.py``); the
ones below are read when scraped, from the broker and the outbox, because they are levels, not events.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator

import redis
from flask import Blueprint, Response, current_app, request
from peewee import InterfaceError, OperationalError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from api.auth import Forbidden, current_principal
from api.openapi import TEXT, documented
from api.responses import ErrorOut
from models import deliveries
from models.keys import OPERATOR
from telemetry.metrics import exposition_registry
from workers.broker import queue_sizes

bp = Blueprint("metrics", __name__)
logger = logging.getLogger(__name__)


class LevelsCollector(Collector):
    """Queue depths from the broker and open deliveries from the database, read at scrape time."""

    def collect(self) -> Iterator[Metric]:
        # A dependency that is down costs its own series, not the whole scrape (/health/ready says why).
        try:
            yield from self._queues()
        except redis.RedisError:
            logger.warning("metrics: the broker did not answer; queue sizes left out", exc_info=True)
        try:
            yield self._deliveries()
        except (OperationalError, InterfaceError):
            logger.warning("metrics: the database did not answer; delivery states left out", exc_info=True)

    def _queues(self) -> Iterator[Metric]:
        ready = GaugeMetricFamily(
            "courier_queue_messages", "Messages waiting for a worker.", labels=["queue"]
        )
        delayed = GaugeMetricFamily(
            "courier_queue_delayed_messages", "Messages not due yet (retries, timers).", labels=["queue"]
        )
        dead = GaugeMetricFamily(
            "courier_queue_dead_lettered_messages", "Messages Dramatiq gave up on.", labels=["queue"]
        )
        for size in queue_sizes():
            ready.add_metric([size.queue], size.ready)
            delayed.add_metric([size.queue], size.delayed)
            dead.add_metric([size.queue], size.dead_lettered)
        yield from (ready, delayed, dead)

    def _deliveries(self) -> Metric:
        by_state = GaugeMetricFamily(
            "courier_deliveries_by_state",
            "Webhook deliveries not yet delivered, by state (dead ones wait for an operator's re-queue).",
            labels=["state"],
        )
        for state, count in deliveries.count_undelivered().items():
            by_state.add_metric([state], count)
        return by_state


def _authorise() -> None:
    token = current_app.config["SETTINGS"].metrics_token
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if (
        token
        and scheme.lower() == "bearer"
        and hmac.compare_digest(presented.strip().encode(), token.encode())
    ):
        return
    principal = current_principal()
    if principal.role != OPERATOR:
        raise Forbidden("Metrics are for operators and the METRICS_TOKEN.")


@bp.get("/metrics")
@documented("Prometheus metrics", responses={200: TEXT, 401: ErrorOut, 403: ErrorOut})
def metrics():
    """For a scraper holding METRICS_TOKEN, or an operator key."""
    _authorise()
    body = generate_latest(exposition_registry(LevelsCollector()))
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})
