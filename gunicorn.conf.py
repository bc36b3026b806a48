"""Gunicorn settings for a dyno, all from the environment (``web:`` in the Procfile)."""

import os

bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", 2))
threads = int(os.environ.get("WEB_THREADS", 4))
worker_class = "gthread" if threads > 1 else "sync"
# A dyno is given 30 s to stop: finish the requests in hand within that.
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", 25))
timeout = int(os.environ.get("WEB_TIMEOUT", 30))
accesslog = "-"
