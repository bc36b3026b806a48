from datetime import datetime, timedelta

import pytest

from api.dashboard import charts
from models.delivery_stats import Latency, MinuteOutcomes

NOW = datetime(2026, 11, 22, 12, 30, 45)


def test_the_outcome_chart_has_a_slot_per_minute_of_the_last_hour_and_scales_to_the_busiest():
    start = charts.first_minute(NOW)
    minutes = [MinuteOutcomes(start, 3, 1), MinuteOutcomes(start + timedelta(minutes=59), 1, 1)]

    chart = charts.outcomes_per_minute(minutes, NOW)

    assert start == datetime(2026, 11, 22, 11, 31) and chart.start == start
    assert (chart.peak, chart.succeeded, chart.failed) == (4, 4, 2)
    first, last = chart.bars
    assert first.x == pytest.approx(1) and last.x == pytest.approx(59 * charts.WIDTH / 60 + 1)
    assert first.succeeded_height + first.failed_height == pytest.approx(
        charts.HEIGHT
    )  # the busiest is full height
    assert last.succeeded_height == pytest.approx(charts.HEIGHT / 4)
    assert first.label == "11:31 UTC: 3 succeeded, 1 failed"


def test_an_hour_without_attempts_draws_no_bar():
    chart = charts.outcomes_per_minute([], NOW)

    assert chart.bars == [] and chart.peak == 0


def test_the_slowest_percentile_spans_the_latency_chart():
    chart = charts.latency_bars(Latency(250, {50: 100, 90: 200, 99: 400}))

    assert chart is not None and chart.sample_size == 250
    assert [(bar.label, bar.milliseconds) for bar in chart.bars] == [("p50", 100), ("p90", 200), ("p99", 400)]
    assert [bar.width for bar in chart.bars] == pytest.approx([65, 130, 260])
    assert charts.latency_bars(None) is None
