"""Benchmark 5: a backlog of 100,000 pending deliveries drains at a steady rate, in flat memory, and
the sweeper's cost does not grow with the deliveries already made.

    python -m scripts.bench.scale [--deliveries 100000] [--payload 1024]

Steady rate: the first and the last 10 % of arrivals at the receiver, each as deliveries per second
(target: within 20 % of each other). Memory: the workers' resident set after the first 10 % and at the
end (target: growth under 10 %). Sweeper: its query's plan and time with a hundred open deliveries,
before any delivery was made and after the whole backlog was.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from scripts.bench import harness

OPEN_ROWS = 100


def enqueue_in_parallel(env: harness.Scratch, ids: list[int], threads: int = 4) -> None:
    chunks = [ids[n::threads] for n in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda chunk: harness.enqueue(env, chunk), chunks))


def park_open_deliveries(partner_id: str) -> None:
    """Open deliveries the workers will not take for an hour: the sweeper's steady working set."""
    from datetime import timedelta

    from models.base import utcnow
    from models.deliveries import RETRYING, Delivery

    ids = harness.seed_deliveries(partner_id, OPEN_ROWS, 200)
    later = utcnow() + timedelta(hours=1)
    Delivery.update(state=RETRYING, next_attempt_at=later).where(Delivery.id.in_(ids)).execute()


def sweeper_query() -> tuple[float, float, str]:
    """The sweeper's queries: the first run's time and the median of 20 more (ms), and PostgreSQL's
    plans. The first run after a drain pays for the dead index entries the drain left (it marks them
    as it goes); the runs after it show the sweeper's steady cost."""
    from models import redelivery
    from models.db import db

    def timed() -> float:
        started = time.perf_counter()
        redelivery.overdue(grace_seconds=60)
        list(redelivery.stranded_query())  # a held delivery whose endpoint is enabled again
        return (time.perf_counter() - started) * 1000

    with db.connection_context():
        # What autoanalyze does after a drain this size. This server may run with autovacuum off; a
        # production one does not. Without fresh statistics the planner still counts a backlog of
        # open rows and may pick a bitmap scan, which visits every dead entry on every sweep.
        db.execute_sql("ANALYZE delivery")
    first = timed()
    median = statistics.median(timed() for _ in range(20))
    plans = []
    with db.connection_context():
        for query in (*redelivery.overdue_queries(grace_seconds=60), redelivery.stranded_query()):
            sql, params = query.sql()
            plans.append("\n".join(row[0] for row in db.execute_sql("EXPLAIN ANALYZE " + sql, params)))
    return first, median, "\n".join(plans)


def autovacuum_setting() -> str:
    from models.db import db

    with db.connection_context():
        return db.execute_sql("SHOW autovacuum").fetchone()[0]


def rate(arrivals: list[float]) -> float:
    return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--payload", type=int, default=1024, help="body size in bytes")
    args = parser.parse_args()
    total = args.deliveries
    with harness.scratch("scale") as env:
        url = env.start_receiver()
        partner_id, _, _ = harness.make_partner(url)
        park_open_deliveries(partner_id)
        _, sweeper_before, _ = sweeper_query()
        ids = harness.seed_deliveries(partner_id, total, args.payload)
        enqueue_in_parallel(env, ids)
        workers = env.start_procfile_worker()
        memory: dict[str, int] = {}

        def watch_memory() -> None:
            while "end" not in memory:
                done = harness.count_in_state("succeeded")
                if done >= total // 10 and "early" not in memory:
                    memory["early"] = harness.rss_kib(workers.pid)
                time.sleep(1)

        watcher = threading.Thread(target=watch_memory, daemon=True)
        watcher.start()
        harness.wait_until(lambda: harness.count_in_state("succeeded") == total, 3600, 1, "the backlog")
        memory["end"] = harness.rss_kib(workers.pid)
        watcher.join()
        arrivals = sorted(harness.receiver_stats(url)["first_seen"].values())
        tenth = len(arrivals) // 10
        first, last = rate(arrivals[:tenth]), rate(arrivals[-tenth:])
        sweeper_first, sweeper_after, plan = sweeper_query()
        autovacuum = autovacuum_setting()
    growth = (memory["end"] - memory["early"]) / memory["early"]
    print(
        f"scale: {total} pending deliveries of {args.payload} B drained by the Procfile's worker\n"
        f"  first 10 %  {first:7.0f} deliveries/s\n"
        f"  last 10 %   {last:7.0f} deliveries/s   ({(last - first) / first:+.0%}; target within 20 %)\n"
        f"  worker RSS  {memory['early'] / 1024:.0f} MiB after 10 %, "
        f"{memory['end'] / 1024:.0f} MiB at the end   ({growth:+.1%}; target under 10 %)\n"
        f"  sweeper with {OPEN_ROWS} open deliveries: {sweeper_before:.2f} ms with none delivered; "
        f"with {total} delivered (autovacuum {autovacuum}), {sweeper_first:.2f} ms for the first sweep, "
        f"then {sweeper_after:.2f} ms\n"
        f"  its plans then:\n    " + plan.replace("\n", "\n    ")
    )


if __name__ == "__main__":
    main()
