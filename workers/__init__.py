"""Dramatiq actors. ``dramatiq workers`` imports this package, which imports every actor module.

Each actor module imports ``workers.broker`` first, so the broker is set before any actor is declared,
whatever the order below.
"""

from workers import (
    broker,
    delivery,
    endpoint_health,
    housekeeping,
    processing_window,
    reconcile,
    sweeper,
)

__all__ = [
    "broker",
    "delivery",
    "endpoint_health",
    "housekeeping",
    "processing_window",
    "reconcile",
    "sweeper",
]
