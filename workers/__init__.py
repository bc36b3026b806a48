"""Dramatiq actors. ``dramatiq workers`` imports this package: the broker first, then every actor."""

from workers import broker  # noqa: F401  (sets the broker before any actor is declared)
from workers import delivery, processing_window  # noqa: F401

__all__ = ["broker", "delivery", "processing_window"]
