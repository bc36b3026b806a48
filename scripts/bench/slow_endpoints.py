"""Slow partners at scale: deliveries per second from one worker dyno against endpoints that answer
after a fixed delay.

    python -m scripts.bench.slow_endpoints [--delays 0,0.1,0.3,1] [--seconds 20]

The worker is the Procfile's ``worker:`` line, run as a dyno would run it (its defaults, this 2-core
machine). The receiver answers every request after the delay without burning CPU (a sleep on its event
loop). For each delay: deliveries per second, worker CPU per delivery (against the fast endpoint's),
the most requests the receiver saw in flight at once, and the most database connections the workers
held. Targets: >= 400 deliveries/s against 300 ms endpoints, CPU per delivery within 25 % of the
fast case.
"""

from __future__ import annotations

import argparse
import shlex
import threading
import time
from dataclasses import dataclass

from scripts.bench import harness


def procfile_worker_command() -> str:
    for line in (harness.PROJECT_ROOT / "Procfile").read_text().splitlines():
        if line.startswith("worker:"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError("the Procfile has no worker line")


def database_connections(database: str) -> int:
    from models.db import db

    with db.connection_context():
        return db.execute_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()[0]


@dataclass
class Run:
    delay: float
    rate: float
    cpu_per_delivery: float
    max_in_flight: int
    max_connections: int


def measure(delay: float, seconds: float, expected_rate: float) -> Run:
    total = max(2000, int(expected_rate * seconds))
    with harness.scratch("slow") as env:
        url = env.start_receiver("--delay", str(delay))
        partner_id, _, _ = harness.make_partner(url)
        ids = harness.seed_deliveries(partner_id, total)
        harness.enqueue(env, ids)
        workers = env.start_procfile_worker()
        peak = {"connections": 0}

        def watch() -> None:
            while workers.poll() is None and "done" not in peak:
                peak["connections"] = max(peak["connections"], database_connections(env.database))
                time.sleep(0.2)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        harness.wait_until(lambda: harness.count_in_state("succeeded") == total, 900, 0.5, "the deliveries")
        peak["done"] = 1
        cpu = harness.cpu_seconds(workers.pid)
        stats = harness.receiver_stats(url)
        env.stop(workers)
    arrivals = sorted(stats["first_seen"].values())
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    return Run(delay, rate, cpu / total, stats["max_in_flight"], peak["connections"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delays", default="0,0.1,0.3,1", help="endpoint delays in seconds")
    parser.add_argument("--seconds", type=float, default=20, help="about how long each run lasts")
    parser.add_argument("--expected-rate", type=float, default=500, help="sizes each run's backlog")
    args = parser.parse_args()
    delays = [float(delay) for delay in args.delays.split(",")]
    print(f"slow endpoints: one worker dyno, Procfile: {shlex.quote(procfile_worker_command())}")
    runs = [measure(delay, args.seconds, args.expected_rate) for delay in delays]
    fast = runs[0].cpu_per_delivery
    for run in runs:
        print(
            f"  endpoint answers after {run.delay * 1000:5.0f} ms: {run.rate:6.0f} deliveries/s, "
            f"{run.cpu_per_delivery * 1000:.2f} ms CPU each ({run.cpu_per_delivery / fast - 1:+.0%}), "
            f"{run.max_in_flight} in flight at most, {run.max_connections} database connections at most"
        )
    print("  targets: >= 400/s at 300 ms; CPU per delivery within 25 % of the fastest endpoint's")


if __name__ == "__main__":
    main()
