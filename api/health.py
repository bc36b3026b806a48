"""Liveness: unauthenticated and free of I/O, so a load balancer may call it as often as it likes."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    return {"status": "ok"}
