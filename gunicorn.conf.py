"""Gunicorn settings for a dyno, all from the environment (``web:`` in the Procfile).

WEB_CONCURRENCY processes of WEB_THREADS threads each, on BIND_HOST:PORT. A dyno is given 30 s to stop
after SIGTERM: gunicorn stops accepting, and finishes the requests in hand within the graceful timeout.
"""

import os

import settings as settings_module
from telemetry.logs import logging_config
from telemetry.metrics import mark_process_dead

bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", 2))
threads = int(os.environ.get("WEB_THREADS", 4))
worker_class = "gthread" if threads > 1 else "sync"
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", 25))
timeout = int(os.environ.get("WEB_TIMEOUT", 30))

# JSON lines, like every other process. The app logs each request itself, with its request id, so
# gunicorn's own access log would only repeat it without one.
accesslog = None
logconfig_dict = logging_config(settings_module.load().log_level)


def child_exit(server, worker):
    # A worker that exits takes its live gauges with it; its counters keep adding up.
    mark_process_dead(worker.pid)
