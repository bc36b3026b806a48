"""Benchmark 1: delivery throughput against the raw limit.

    python -m scripts.bench.throughput [--deliveries 20000] [--processes 2] [--threads 256] [--threaded]

The limit: the same receiver hit by bare ``requests.Session`` loops with the same number of processes
and the same concurrency, sending bodies of the same size. Courier: as many pending deliveries, drained
by the workers (claim, sign, POST, attempt log, broker acks). By default both run as the Procfile runs
the worker dyno, on gevent (``dramatiq-gevent``, and greenlets for the loops); ``--threaded`` runs
``dramatiq`` and threads instead. Both rates are taken from the receiver's own clock, first arrival to
last.
"""

from __future__ import annotations

import argparse
import os
import sys

from scripts.bench import harness


def arrival_rate(stats: dict) -> float:
    arrivals = sorted(stats["first_seen"].values())
    return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])


def raw_limit(
    env: harness.Scratch, total: int, processes: int, threads: int, payload: int, gevent: bool = False
) -> tuple[float, dict[str, float]]:
    """Requests per second, and CPU milliseconds per request by role."""
    url = env.start_receiver()
    command = [sys.executable, "-m", "scripts.bench.raw_sender", url, "--count", str(total // processes)]
    command += ["--concurrency", str(threads), "--payload", str(payload)] + (["--gevent"] if gevent else [])
    before = harness.cpu_by_role()
    senders = [env.start(*command) for _ in range(processes)]
    client_cpu = 0.0
    for sender in senders:  # wait4: the CPU of a process that has ended
        _, _, usage = os.wait4(sender.pid, 0)
        sender.returncode = 0
        client_cpu += usage.ru_utime + usage.ru_stime
    after = harness.cpu_by_role()
    breakdown = {role: (after[role] - before.get(role, 0.0)) * 1000 / total for role in after}
    breakdown["raw client"] = client_cpu * 1000 / total
    return arrival_rate(harness.receiver_stats(url)), breakdown


def courier_rate(
    env: harness.Scratch, total: int, processes: int, threads: int, payload: int, gevent: bool = False
) -> tuple[float, dict[str, float]]:
    """Deliveries per second, and CPU milliseconds per delivery by role (``workers`` among them)."""
    url = env.start_receiver()
    partner_id, _, _ = harness.make_partner(url)
    ids = harness.seed_deliveries(partner_id, total, payload)
    harness.enqueue(env, ids)
    with harness.cpu_per_item(lambda: total) as breakdown:
        workers = env.start_workers(processes, threads, gevent=gevent)
        harness.wait_until(lambda: harness.count_in_state("succeeded") == total, 600, 0.25, "the deliveries")
    env.stop(workers)
    return arrival_rate(harness.receiver_stats(url)), breakdown


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=20000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=256, help="threads or greenlets per process")
    parser.add_argument("--payload", type=int, default=1024, help="body size in bytes")
    parser.add_argument("--threaded", action="store_true", help="threads, not gevent")
    args = parser.parse_args()
    gevent = not args.threaded
    shape = (args.deliveries, args.processes, args.threads, args.payload)
    with harness.scratch("throughput") as env:
        limit, limit_cpu = raw_limit(env, *shape, gevent=gevent)
        rate, courier_cpu = courier_rate(env, *shape, gevent=gevent)
    print(
        f"throughput: {args.deliveries} deliveries of {args.payload} B, "
        f"{args.processes} processes x {args.threads} {'greenlets' if gevent else 'threads'}\n"
        f"  raw limit (requests.Session loops)  {limit:8.0f} /s   {harness.describe_cpu(limit_cpu)}\n"
        f"  courier workers                     {rate:8.0f} /s   {harness.describe_cpu(courier_cpu)}\n"
        f"  ratio                               {rate / limit:8.2f}   (target >= 0.80)"
    )


if __name__ == "__main__":
    main()
