"""Every request gets a request id, one log line, and its count and latency in the metrics.

The id is the client's ``X-Request-Id`` when it is a sane token (so a marketplace can follow its own
id through our logs), otherwise a new one; either way it is returned in the response's header and
bound to every log line of the request and of the messages the request enqueues.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request
from prometheus_client import Counter, Histogram

from telemetry import logs
from telemetry import metrics as _telemetry  # noqa: F401  (prepares the multiprocess directory first)

REQUEST_ID_HEADER = "X-Request-Id"
# Probes and scrapes come every few seconds; their lines would drown the story of the orders.
QUIET_ROUTES = frozenset({"/health", "/health/ready", "/metrics"})
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

logger = logging.getLogger("api.request")

requests_total = Counter(
    "courier_http_requests",
    "API requests answered, by method, route and status.",
    ["method", "route", "status"],
)
request_duration = Histogram(
    "courier_http_request_duration_seconds",
    "Time to answer an API request, by method and route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def _method() -> str:
    # A label per method a client invents would be a new series each: gunicorn passes any word on.
    return request.method if request.method in KNOWN_METHODS else "OTHER"


def _route() -> str:
    # The rule, not the path: /orders/<order_id> is one series, not one per order.
    return request.url_rule.rule if request.url_rule is not None else "unmatched"


def _start() -> None:
    g.request_started = time.perf_counter()
    g.request_id_token = logs.request_id.set(logs.accept_request_id(request.headers.get(REQUEST_ID_HEADER)))


def _finish(response: Response) -> Response:
    elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
    route = _route()
    method = _method()
    requests_total.labels(method, route, str(response.status_code)).inc()
    request_duration.labels(method, route).observe(elapsed)
    response.headers[REQUEST_ID_HEADER] = logs.request_id.get() or ""
    principal = g.get("principal")
    logger.log(
        logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "event": "http.request",
            "method": request.method,
            "path": request.path,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 1),
            "key_id": principal.key_id if principal else None,
            "role": principal.role if principal else None,
        },
    )
    return response


def _unbind(exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        logs.request_id.reset(token)


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_unbind)
