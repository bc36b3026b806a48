import threading
from dataclasses import dataclass

import pytest
import redis

from scripts import clock
from scripts.clock import Job, OneClock, RedisTickLock
from telemetry.logs import request_id
from tests.conftest import SERVICE_TIER


@dataclass(frozen=True)
class FakeActor:
    actor_name: str


class Sends:
    """Stands in for dispatch: records what each clock sent, and with which request id."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()

    def __call__(self, actor, *args, **kwargs) -> bool:
        with self.lock:
            self.sent.append((actor.actor_name, request_id.get()))
        return True


@pytest.fixture
def sends(monkeypatch):
    recorder = Sends()
    monkeypatch.setattr(clock, "dispatch", recorder)
    return recorder


class SimulatedTime(threading.Event):
    """A wall clock for ``clock.run``: waiting moves it on instead of sleeping, until ``until``."""

    def __init__(self, start: float, until: float) -> None:
        super().__init__()
        self.now, self.until = start, until

    def time(self) -> float:
        return self.now

    def wait(self, timeout: float | None = None) -> bool:
        self.now += timeout or 0.0
        if self.now >= self.until:
            self.set()
        return self.is_set()


def test_each_job_is_sent_once_per_slot_with_the_ticks_request_id(sends):
    often, seldom = Job(FakeActor("often"), every_seconds=10), Job(FakeActor("seldom"), every_seconds=60)
    simulated = SimulatedTime(start=5995.5, until=6075)

    clock.run(simulated, jobs=(often, seldom), lock=OneClock(), now=simulated.time)

    often_ticks = [rid for name, rid in sends.sent if name == "often"]
    seldom_ticks = [rid for name, rid in sends.sent if name == "seldom"]
    assert often_ticks == [f"clock-often-{slot}" for slot in range(599, 608)]
    assert seldom_ticks == ["clock-seldom-99", "clock-seldom-100", "clock-seldom-101"]


@pytest.mark.skipif(not SERVICE_TIER, reason="the tick lock lives in Redis")
def test_two_clocks_send_each_tick_once(sends, settings):
    client = redis.Redis.from_url(settings.redis_url)
    job = Job(FakeActor("sweep"), every_seconds=0.05)
    stop = threading.Event()
    clocks = [
        threading.Thread(
            target=clock.run,
            args=(stop,),
            kwargs={"jobs": (job,), "lock": RedisTickLock(client, settings.redis_namespace)},
        )
        for _ in range(2)
    ]
    for thread in clocks:
        thread.start()
    threading.Event().wait(1.0)
    stop.set()
    for thread in clocks:
        thread.join(5)

    ticks = [rid for _, rid in sends.sent]
    assert len(ticks) >= 10
    assert len(ticks) == len(set(ticks))  # no slot sent twice


def test_a_tick_taken_by_another_clock_is_not_sent(sends):
    class Taken:
        def claim(self, job, slot):
            return False

    assert clock.tick(Job(FakeActor("sweep"), 30), 1, Taken()) is False
    assert sends.sent == []


def test_a_tick_redis_could_not_lock_is_tried_again_within_its_slot(sends):
    class Flaky:
        def __init__(self) -> None:
            self.refusals = 2

        def claim(self, job, slot):
            if self.refusals:
                self.refusals -= 1
                raise redis.ConnectionError("Redis is restarting")
            return True

    hourly = Job(FakeActor("purge"), every_seconds=3600)
    simulated = SimulatedTime(start=7200.5, until=7210)

    clock.run(simulated, jobs=(hourly,), lock=Flaky(), now=simulated.time)

    assert sends.sent == [("purge", "clock-purge-2")]  # two seconds late, not an hour


def test_the_clock_sends_the_real_jobs():
    assert {job.name for job in clock.JOBS} == {
        "expire_overdue_windows", "sweep_deliveries", "reconcile_transactions", "disable_failing_endpoints",
        "purge_idempotency_keys", "purge_dashboard_sessions",
    }  # fmt: skip
