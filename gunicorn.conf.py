"""Gunicorn settings for a dyno, all from the environment (``web:`` in the Procfile).

WEB_CONCURRENCY processes on BIND_HOST:PORT, each answering one request at a time (gunicorn's sync
worker, as Heroku's own guide runs it). A dyno is given 30 s to stop after SIGTERM: gunicorn stops
accepting, and finishes the requests in hand within the graceful timeout.
"""

import os
import re

import settings as settings_module
from telemetry.logs import logging_config
from telemetry.metrics import mark_process_dead


def _count(name: str, default: int) -> int:
    """A whole number of at least 1: gunicorn given 0 workers binds the port and answers nobody."""
    raw = (os.environ.get(name) or str(default)).strip()
    if not re.fullmatch(r"[0-9]{1,4}", raw) or int(raw) < 1:
        raise settings_module.ConfigurationError(f"{name} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = _count("WEB_CONCURRENCY", 2)
# Threads are opt-in (WEB_THREADS > 1 runs the gthread worker), and measured worse for this API: a
# gthread process accepts every keep-alive connection it can, so one process served all of a load
# test's connections while the other idled, and its threads queued for the GIL between the order's
# database and Redis round trips. Under benchmark 3's load, when this was chosen, the sync worker took
# 293 orders/s at 5.9 ms of CPU an order, the gthread one (2 x 4) 125-148/s at 8.9-10.4 ms; orders have
# become cheaper since, on the sync worker (docs/PERFORMANCE.md). The price: a
# process answers one request at a time, so a slow one (a dashboard page over a large table) holds a
# whole process meanwhile. The API's requests take milliseconds; WEB_CONCURRENCY is sized per dyno.
threads = _count("WEB_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
# Heroku's router ends TLS and says so in X-Forwarded-Proto, which gunicorn believes only from these
# addresses. app.json sets *, since nothing but the router reaches a dyno: an https request's redirects
# (/generic/buyer -> /generic/buyer/) then stay on https, where clients keep their Authorization header.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
graceful_timeout = _count("WEB_GRACEFUL_TIMEOUT", 25)
timeout = _count("WEB_TIMEOUT", 30)

# JSON lines, like every other process. The app logs each request itself, with its request id, so
# gunicorn's own access log would only repeat it without one.
accesslog = None
logconfig_dict = logging_config(settings_module.load().log_level)


def child_exit(server, worker):
    # A worker that exits takes its live gauges with it; its counters keep adding up.
    mark_process_dead(worker.pid)
