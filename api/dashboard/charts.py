"""Small charts drawn on the server: this module computes the geometry, ``_charts.html`` draws the SVG.

Inline SVG needs no script and no library, prints and scales with the page, and each bar carries a
``<title>`` with its figures so that the numbers are there for whoever would rather read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.delivery_stats import Latency, MinuteOutcomes

MINUTES = 60
WIDTH, HEIGHT = 600, 120  # the plotting area, in SVG units; the page scales it
LATENCY_WIDTH = 260


def first_minute(now: datetime) -> datetime:
    """The start of the oldest of the last ``MINUTES`` whole minutes, the current one included."""
    return now.replace(second=0, microsecond=0) - timedelta(minutes=MINUTES - 1)


@dataclass(frozen=True)
class MinuteBar:
    x: float
    width: float
    succeeded_y: float
    succeeded_height: float
    failed_y: float
    failed_height: float
    label: str


@dataclass(frozen=True)
class OutcomeChart:
    bars: list[MinuteBar]
    peak: int
    succeeded: int
    failed: int
    start: datetime
    width: int = WIDTH
    height: int = HEIGHT


def outcomes_per_minute(minutes: list[MinuteOutcomes], now: datetime) -> OutcomeChart:
    """Stacked bars, one a minute over the last hour: succeeded attempts below, failed ones on top."""
    start = first_minute(now)
    counted = {row.minute: row for row in minutes}
    slots = [counted.get(start + timedelta(minutes=i)) for i in range(MINUTES)]
    peak = max((row.succeeded + row.failed for row in slots if row), default=0)
    scale = HEIGHT / peak if peak else 0
    step = WIDTH / MINUTES
    bars = []
    for i, row in enumerate(slots):
        if row is None:
            continue
        ok_height, failed_height = row.succeeded * scale, row.failed * scale
        bars.append(
            MinuteBar(
                x=i * step + 1,
                width=step - 2,
                succeeded_y=HEIGHT - ok_height,
                succeeded_height=ok_height,
                failed_y=HEIGHT - ok_height - failed_height,
                failed_height=failed_height,
                label=f"{row.minute:%H:%M} UTC: {row.succeeded} succeeded, {row.failed} failed",
            )
        )
    return OutcomeChart(
        bars=bars,
        peak=peak,
        succeeded=sum(row.succeeded for row in slots if row),
        failed=sum(row.failed for row in slots if row),
        start=start,
    )


@dataclass(frozen=True)
class LatencyBar:
    label: str
    milliseconds: int
    y: float
    width: float


@dataclass(frozen=True)
class LatencyChart:
    bars: list[LatencyBar]
    sample_size: int
    width: int = LATENCY_WIDTH
    bar_height: int = 26
    gap: int = 12

    @property
    def height(self) -> int:
        return len(self.bars) * (self.bar_height + self.gap)


def latency_bars(latency: Latency | None) -> LatencyChart | None:
    """One horizontal bar per percentile, the slowest spanning the width."""
    if latency is None:
        return None
    slowest = max(latency.percentiles.values()) or 1
    chart = LatencyChart(bars=[], sample_size=latency.sample_size)
    for row, (percentile, value) in enumerate(sorted(latency.percentiles.items())):
        chart.bars.append(
            LatencyBar(
                label=f"p{percentile}",
                milliseconds=value,
                y=row * (chart.bar_height + chart.gap),
                width=max(2.0, LATENCY_WIDTH * value / slowest),
            )
        )
    return chart
