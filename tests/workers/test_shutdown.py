"""A worker told to stop (SIGTERM, as a dyno restart sends it) finishes or hands back what it holds."""

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from models import deliveries
from models.deliveries import Attempt, Delivery
from tests import factories
from tests.conftest import PROJECT_ROOT, SERVICE_TIER
from tests.helpers import wait_until
from tests.receiver import Respond
from workers.delivery import deliver_webhook
from workers.redis_wakeup import WakingRedisBroker

pytestmark = pytest.mark.skipif(
    not SERVICE_TIER, reason="sends SIGTERM to a real dramatiq process, which consumes Redis"
)


def procfile_worker(namespace: str, command: str, logs=subprocess.DEVNULL) -> subprocess.Popen:
    """The Procfile's worker line run with ``command`` (dramatiq-gevent or dramatiq), on a Redis
    namespace of its own, with one process of four greenlets (or threads); its logs to ``logs``."""
    lines = (PROJECT_ROOT / "Procfile").read_text().splitlines()
    line = next(entry for entry in lines if entry.startswith("worker:")).replace("dramatiq-gevent", command)
    env = {**os.environ, "REDIS_NAMESPACE": namespace, "WORKER_PROCESSES": "1", "WORKER_GREENLETS": "4"}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"  # where dramatiq is installed
    return subprocess.Popen(
        ["bash", "-c", "exec " + line.split(":", 1)[1].strip()],
        cwd=PROJECT_ROOT,
        env=env,
        start_new_session=True,
        stdout=logs,
        stderr=logs,
    )


@pytest.fixture
def namespaced_broker():
    """A Redis broker on a namespace of the test's own, removed afterwards."""
    namespace = f"courier-test-shutdown-{uuid.uuid4().hex[:8]}"
    broker = WakingRedisBroker(url=os.environ["REDIS_URL"], namespace=namespace)
    broker.declare_queue("webhooks")
    yield broker
    for key in broker.client.scan_iter(match=f"{namespace}*"):
        broker.client.delete(key)


@pytest.mark.parametrize("command", ["dramatiq-gevent", "dramatiq"])
def test_a_stopping_worker_finishes_its_deliveries_in_flight_and_leaves_none_claimed(
    receiver, command, namespaced_broker
):
    receiver.always(Respond(200, delay=0.5))  # slow, but within the tests' one-second timeout
    rows = pending_deliveries(receiver.url, 8)
    broker, namespace = namespaced_broker, namespaced_broker.namespace
    for row in rows:
        broker.enqueue(deliver_webhook.message(row.id))

    first = procfile_worker(namespace, command)
    try:
        receiver.wait_for(2, timeout=30)  # some deliveries are in flight
        os.killpg(first.pid, signal.SIGTERM)
        first.wait(30)

        states = {row.state for row in Delivery.select(Delivery.state)}
        assert deliveries.DELIVERING not in states
        # Every request that reached the partner was seen through and logged, none cut off mid-way.
        reached = {r.headers["webhook-id"] for r in receiver.received}
        logged = {row.webhook_id for row in Delivery.select().join(Attempt).where(Attempt.status_code == 200)}
        assert reached and reached <= logged

        second = procfile_worker(namespace, command)
        try:
            wait_until(
                lambda: Delivery.select().where(Delivery.state == deliveries.SUCCEEDED).count() == len(rows),
                timeout=60,
            )
        finally:
            os.killpg(second.pid, signal.SIGTERM)
            second.wait(30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)


def pending_deliveries(url: str, count: int) -> list[Delivery]:
    acme = factories.partner(webhook_url=url)
    return [deliveries.create_delivery(acme.id, "order.created", {"id": f"po_{n}"}) for n in range(count)]


def test_every_attempt_is_in_the_logs_by_the_time_a_stopped_worker_exits(
    receiver, namespaced_broker, tmp_path
):
    """A worker writes its lines in batches (telemetry/log_batches.py): none is left behind at a stop."""
    receiver.always(Respond(200))
    rows = pending_deliveries(receiver.url, 20)
    for row in rows:
        namespaced_broker.enqueue(deliver_webhook.message(row.id))
    log_path = tmp_path / "worker.log"

    with log_path.open("w") as log:
        worker = procfile_worker(namespaced_broker.namespace, "dramatiq-gevent", logs=log)
        try:
            wait_until(
                lambda: Delivery.select().where(Delivery.state == deliveries.SUCCEEDED).count() == len(rows),
                timeout=60,
            )
            os.killpg(worker.pid, signal.SIGTERM)  # at once: the last lines may still be held
            worker.wait(30)
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    logged = [line["delivery_id"] for line in lines if line.get("event") == "webhook.attempt"]
    assert sorted(logged) == sorted(row.id for row in rows)
    assert lines[-1]["message"] == "Worker has been shut down."  # Dramatiq's last word, too
