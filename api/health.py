"""Health for load balancers and operators; both unauthenticated and cheap.

``GET /health``        liveness: free of I/O, so it may be called as often as anyone likes.
``GET /health/ready``  readiness: the database answers ``SELECT 1`` and the broker a ``PING``, each
                       timed, each cut off after ``CHECK_TIMEOUT_SECONDS``; 200 when all pass, else 503.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Blueprint

from api.openapi import documented
from api.responses import Liveness, Readiness
from models.db import close_connection, db
from workers.broker import ping_broker

bp = Blueprint("health", __name__)
logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
# The checks run on these threads so that a hung connection cannot hold the probe past its timeout.
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readiness")


def _database() -> str:
    try:
        db.execute_sql("SELECT 1")
        return "reachable"
    finally:
        close_connection()  # the check's thread keeps no connection


def _broker() -> str:
    return ping_broker(CHECK_TIMEOUT_SECONDS)


def _timed(check: Callable[[], str]) -> dict[str, Any]:
    started = time.perf_counter()
    future = _checks.submit(check)
    try:
        result: dict[str, Any] = {"ok": True, "detail": future.result(timeout=CHECK_TIMEOUT_SECONDS)}
    except FutureTimeout:
        result = {"ok": False, "detail": f"no answer within {CHECK_TIMEOUT_SECONDS:g}s"}
    except Exception as exc:  # any failure of a dependency is an answer, not an error of ours
        # The probe is public: the error's own words (a host, a port, a database user) go to the log.
        logger.warning("readiness check %s failed", check.__name__, exc_info=True)
        result = {"ok": False, "detail": f"{type(exc).__name__}: see the log"}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


@bp.get("/health")
@documented("Liveness", responses={200: Liveness}, public=True)
def health():
    return {"status": "ok"}


@bp.get("/health/ready")
@documented("Readiness: database and broker, timed", responses={200: Readiness, 503: Readiness}, public=True)
def ready():
    checks = {"database": _timed(_database), "broker": _timed(_broker)}
    healthy = all(check["ok"] for check in checks.values())
    return {"status": "ok" if healthy else "unavailable", "checks": checks}, 200 if healthy else 503
