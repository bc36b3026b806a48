import subprocess
import sys

from tests.conftest import PROJECT_ROOT

ACTORS = {
    "deliver_webhook",
    "close_processing_window",
    "expire_overdue_windows",
    "sweep_deliveries",
    "reconcile_transactions",
    "disable_failing_endpoints",
    "purge_idempotency_keys",
    "purge_dashboard_sessions",
}


def test_the_workers_package_declares_every_actor_for_the_dramatiq_command():
    listing = subprocess.run(
        [sys.executable, "-c", "import workers; print(' '.join(sorted(workers.broker.broker.actors)))"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()

    assert set(listing) >= ACTORS
