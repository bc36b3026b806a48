"""What operators read at a glance: deliveries counted by state and partner, attempts per minute, latency.

Each figure is one aggregate query over an index, whatever the number of rows behind it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from peewee import Case, fn

from models.base import tuples
from models.db import db
from models.deliveries import Attempt, Delivery

# The most recent attempts the latency percentiles are taken over; see ``latency_percentiles``.
LATENCY_SAMPLE = 20_000
PERCENTILES = (50, 90, 99)


def state_counts() -> dict[str, int]:
    return dict(tuples(Delivery.select(Delivery.state, fn.COUNT(Delivery.id)).group_by(Delivery.state)))


def counts_by_partner() -> dict[str, dict[str, int]]:
    """``{partner_id: {state: count}}`` for every partner with a delivery."""
    rows = Delivery.select(Delivery.partner, Delivery.state, fn.COUNT(Delivery.id)).group_by(
        Delivery.partner, Delivery.state
    )
    counts: dict[str, dict[str, int]] = {}
    for partner_id, state, count in tuples(rows):
        counts.setdefault(partner_id, {})[state] = count
    return counts


@dataclass(frozen=True)
class MinuteOutcomes:
    minute: datetime
    succeeded: int
    failed: int


def attempts_per_minute(since: datetime) -> list[MinuteOutcomes]:
    """Attempts since ``since`` counted per minute and outcome; minutes with none are left out."""
    minute = db.truncate_date("minute", Attempt.attempted_at)
    succeeded = (Attempt.status_code >= 200) & (Attempt.status_code < 300)
    rows = (
        Attempt.select(minute, fn.SUM(Case(None, [(succeeded, 1)], 0)), fn.COUNT(Attempt.id))
        .where(Attempt.attempted_at >= since)
        .group_by(minute)
        .order_by(minute)
    )
    return [MinuteOutcomes(at, int(ok), total - int(ok)) for at, ok, total in tuples(rows)]


@dataclass(frozen=True)
class Latency:
    sample_size: int
    percentiles: dict[int, int]  # {50: ms, 90: ms, 99: ms}


def latency_percentiles(since: datetime, sample: int = LATENCY_SAMPLE) -> Latency | None:
    """p50, p90 and p99 of attempt durations since ``since`` (nearest rank), or None with no attempt.

    Taken in Python over at most the ``sample`` latest attempts: SQLite has no percentile function, and
    one bounded, indexed read keeps both databases on the same, exact code. A busier hour is summarised
    by its latest ``sample`` attempts, and the page says how many.
    """
    latest = (
        Attempt.select(Attempt.duration_ms)
        .where(Attempt.attempted_at >= since)
        .order_by(Attempt.attempted_at.desc())
        .limit(sample)
    )
    durations = sorted(duration for (duration,) in tuples(latest))
    if not durations:
        return None
    return Latency(len(durations), {p: nearest_rank(durations, p) for p in PERCENTILES})


def nearest_rank(ordered: list[int], percentile: float) -> int:
    """The smallest value at or above which ``percentile`` per cent of ``ordered`` lies."""
    rank = max(1, math.ceil(percentile / 100 * len(ordered)))
    return ordered[rank - 1]
