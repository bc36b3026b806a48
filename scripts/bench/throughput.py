"""Benchmark 1: delivery throughput against the raw limit.

    python -m scripts.bench.throughput [--deliveries 20000] [--processes 2] [--threads 8] [--payload 1024]

The limit: the same receiver hit by bare ``requests.Session`` loops with the same number of processes
and threads, sending bodies of the same size. Courier: as many pending deliveries, drained by
``dramatiq workers`` with those processes and threads (claim, sign, POST, attempt log, broker acks).
Both rates are taken from the receiver's own clock, first arrival to last.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import threading
import time
import uuid

import requests

from scripts.bench import harness


def _raw_sender(url: str, threads: int, per_thread: int, body: bytes) -> None:
    def loop() -> None:
        session = requests.Session()
        for _ in range(per_thread):
            headers = {
                "Content-Type": "application/json",
                "webhook-id": "msg_" + uuid.uuid4().hex,
                "webhook-timestamp": str(int(time.time())),
                "webhook-signature": "v1," + "x" * 44,
            }
            session.post(url, data=body, headers=headers, timeout=15)

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def arrival_rate(stats: dict) -> float:
    arrivals = sorted(stats["first_seen"].values())
    return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])


def raw_limit(env: harness.Scratch, total: int, processes: int, threads: int, payload: int) -> float:
    url = env.start_receiver()
    body = json.dumps(harness.sample_payload(payload)).encode()
    per_thread = total // (processes * threads)
    senders = [
        multiprocessing.Process(target=_raw_sender, args=(url, threads, per_thread, body))
        for _ in range(processes)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    return arrival_rate(harness.receiver_stats(url))


def courier_rate(
    env: harness.Scratch, total: int, processes: int, threads: int, payload: int, gevent: bool = False
) -> tuple[float, float]:
    """Deliveries per second, and worker CPU seconds per delivery."""
    url = env.start_receiver()
    partner_id, _, _ = harness.make_partner(url)
    ids = harness.seed_deliveries(partner_id, total, payload)
    harness.enqueue(env, ids)
    workers = env.start_workers(processes, threads, gevent=gevent)
    harness.wait_until(lambda: harness.count_in_state("succeeded") == total, 600, 0.25, "the deliveries")
    cpu = harness.cpu_seconds(workers.pid)
    env.stop(workers)
    return arrival_rate(harness.receiver_stats(url)), cpu / total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=20000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--payload", type=int, default=1024, help="body size in bytes")
    args = parser.parse_args()
    with harness.scratch("throughput") as env:
        limit = raw_limit(env, args.deliveries, args.processes, args.threads, args.payload)
        rate, cpu_per_delivery = courier_rate(
            env, args.deliveries, args.processes, args.threads, args.payload
        )
    print(
        f"throughput: {args.deliveries} deliveries of {args.payload} B, "
        f"{args.processes} processes x {args.threads} threads\n"
        f"  raw limit (requests.Session loops)  {limit:8.0f} /s\n"
        f"  courier workers                     {rate:8.0f} /s"
        f"   ({cpu_per_delivery * 1000:.2f} ms worker CPU per delivery)\n"
        f"  ratio                               {rate / limit:8.2f}   (target >= 0.80)"
    )


if __name__ == "__main__":
    main()
