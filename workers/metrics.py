"""What the workers count: deliveries by outcome and latency, expired windows, and Dramatiq's own
message metrics, all in the registry that ``/metrics`` exposes (see ``telemetry.metrics``).

Dramatiq ships a Prometheus middleware, but it starts an exposition server of its own on a port
(0.0.0.0:9191 by default) and keeps a separate multiprocess directory. ``MessageMetrics`` records the
same series, under the same names, into Courier's registry instead: one scrape, one directory, no
extra port on a worker dyno.
"""

from __future__ import annotations

import os
import time

from dramatiq.middleware import Middleware
from prometheus_client import Counter, Gauge, Histogram

from telemetry import metrics as telemetry

# Seconds from a partner's first byte to its last: most answer in tens of milliseconds, the slowest
# run into the request timeout (15 s by default).
_ATTEMPT_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30)
# Seconds from the order to the partner having it: one attempt, or a retry schedule of hours.
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000, 86400)

deliveries = Counter(
    "courier_deliveries",
    "Webhook wake-ups that claimed a delivery, by what became of it: succeeded, retrying (a retry is "
    "scheduled), dead (the schedule ran out), held (endpoint disabled), deferred (partner's slots busy), "
    "lapsed (the claim's lease ran out before its outcome was written).",
    ["outcome"],
)
attempt_duration = Histogram(
    "courier_webhook_attempt_duration_seconds",
    "One HTTP attempt at a partner's endpoint, by result: 2xx, 3xx, 4xx, 5xx or error (no response).",
    ["result"],
    buckets=_ATTEMPT_BUCKETS,
)
delivery_latency = Histogram(
    "courier_delivery_latency_seconds",
    "From a delivery being written (the order placed) to the partner answering 2xx, retries included.",
    buckets=_LATENCY_BUCKETS,
)
windows_expired = Counter(
    "courier_processing_windows_expired",
    "Processing windows that closed before the partner answered, by what closed them: timer or backstop.",
    ["by"],
)
endpoints_disabled = Counter(
    "courier_endpoints_disabled",
    "Partner endpoints disabled by the endpoint-health job for failing too long.",
)


def attempt_result(status_code: int | None) -> str:
    return "error" if status_code is None else f"{status_code // 100}xx"


def _labels(message) -> tuple[str, str]:
    return message.queue_name, message.actor_name


_message_labels = ["queue_name", "actor_name"]
messages = Counter("dramatiq_messages", "Messages processed.", _message_labels)
message_errors = Counter("dramatiq_message_errors", "Messages whose actor raised.", _message_labels)
message_retries = Counter("dramatiq_message_retries", "Messages retried by Dramatiq.", _message_labels)
message_rejects = Counter("dramatiq_message_rejects", "Messages dead-lettered.", _message_labels)
messages_in_progress = Gauge(
    "dramatiq_messages_inprogress", "Messages being processed.", _message_labels, multiprocess_mode="livesum"
)
delayed_in_progress = Gauge(
    "dramatiq_delayed_messages_inprogress",
    "Delayed messages a worker holds in memory until they are due.",
    _message_labels,
    multiprocess_mode="livesum",
)
message_duration = Histogram(
    "dramatiq_message_duration_milliseconds",
    "Time spent processing a message.",
    _message_labels,
    buckets=(5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 600000),
)


class MessageMetrics(Middleware):
    """Dramatiq's message metrics, with the names its own Prometheus middleware uses."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._delayed: set[str] = set()

    def after_enqueue(self, broker, message, delay):
        if "retries" in message.options:
            message_retries.labels(*_labels(message)).inc()

    def after_nack(self, broker, message):
        message_rejects.labels(*_labels(message)).inc()

    def before_delay_message(self, broker, message):
        self._delayed.add(message.message_id)
        delayed_in_progress.labels(*_labels(message)).inc()

    def before_process_message(self, broker, message):
        if message.message_id in self._delayed:
            self._delayed.discard(message.message_id)
            delayed_in_progress.labels(*_labels(message)).dec()
        messages_in_progress.labels(*_labels(message)).inc()
        self._started[message.message_id] = time.monotonic()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        started = self._started.pop(message.message_id, None)
        if started is not None:  # a message skipped before it started was never in progress
            message_duration.labels(*_labels(message)).observe((time.monotonic() - started) * 1000)
            messages_in_progress.labels(*_labels(message)).dec()
        messages.labels(*_labels(message)).inc()
        if exception is not None:
            message_errors.labels(*_labels(message)).inc()

    after_skip_message = after_process_message

    def after_worker_shutdown(self, broker, worker):
        telemetry.mark_process_dead(os.getpid())
