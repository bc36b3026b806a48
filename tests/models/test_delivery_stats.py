from datetime import timedelta

from models import deliveries, delivery_stats
from models.base import utcnow
from models.deliveries import Attempt
from tests import factories


def attempts_at(minute, *outcomes):
    """Log one attempt per (status code, duration) at ``minute`` (+ a few seconds each)."""
    webhook = factories.delivery(factories.partner(), deliveries.SUCCEEDED)
    for n, (status_code, duration_ms) in enumerate(outcomes):
        Attempt.create(
            delivery=webhook,
            attempted_at=minute + timedelta(seconds=n),
            url="http://x",
            status_code=status_code,
            duration_ms=duration_ms,
        )


def test_attempts_are_counted_per_minute_and_outcome():
    start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=10)
    attempts_at(start, (200, 10), (200, 10), (500, 10), (None, 10))
    attempts_at(start + timedelta(minutes=3), (204, 10))
    attempts_at(start - timedelta(minutes=1), (200, 10))  # before the window

    rows = delivery_stats.attempts_per_minute(since=start)

    assert rows == [
        delivery_stats.MinuteOutcomes(start, succeeded=2, failed=2),
        delivery_stats.MinuteOutcomes(start + timedelta(minutes=3), succeeded=1, failed=0),
    ]


def test_latency_percentiles_are_nearest_rank_over_the_window():
    start = utcnow() - timedelta(minutes=30)
    attempts_at(start, *[(200, ms) for ms in range(1, 101)])
    attempts_at(start - timedelta(hours=2), (200, 99999))

    latency = delivery_stats.latency_percentiles(since=start)

    assert latency == delivery_stats.Latency(100, {50: 50, 90: 90, 99: 99})
    assert delivery_stats.latency_percentiles(since=utcnow()) is None


def test_latency_takes_the_latest_attempts_when_there_are_more_than_the_sample():
    start = utcnow() - timedelta(minutes=30)
    attempts_at(start, (200, 1000), (200, 1), (200, 2))

    latency = delivery_stats.latency_percentiles(since=start, sample=2)

    assert latency is not None and latency.sample_size == 2 and latency.percentiles[99] == 2


def test_nearest_rank():
    assert delivery_stats.nearest_rank([7], 99) == 7
    assert delivery_stats.nearest_rank([1, 2, 3, 4], 50) == 2
    assert delivery_stats.nearest_rank([1, 2, 3, 4], 51) == 3


def test_counts_by_state_and_partner():
    acme, rival = factories.partner(), factories.partner()
    factories.delivery(acme, deliveries.DEAD)
    factories.delivery(acme, deliveries.DEAD)
    factories.delivery(rival, deliveries.HELD)

    assert delivery_stats.state_counts() == {"dead": 2, "held": 1}
    assert delivery_stats.counts_by_partner() == {acme.id: {"dead": 2}, rival.id: {"held": 1}}
