"""Dramatiq actors. ``dramatiq workers`` imports this package: the broker first, then every actor."""

from workers import (
    broker,
    delivery,
    processing_window,
    reconcile,
)

__all__ = ["broker", "delivery", "processing_window", "reconcile"]
