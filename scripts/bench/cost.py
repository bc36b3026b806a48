"""Benchmark 6: how the cost grows, with worker processes and with payload size.

    python -m scripts.bench.cost [--deliveries 5000]

Deliveries per second and worker CPU per delivery, draining a backlog to a local receiver, with the
worker as the Procfile runs it (gevent, 256 greenlets a process): with 1, 2 and 4 worker processes
(1 KB payloads), then with 1 KB, 10 KB and 100 KB payloads (2 processes).
"""

from __future__ import annotations

import argparse

from scripts.bench import harness
from scripts.bench.throughput import courier_rate

GREENLETS = 256


def measure(deliveries: int, processes: int, payload: int) -> tuple[float, float]:
    """Deliveries per second, and the workers' CPU milliseconds per delivery."""
    with harness.scratch("cost") as env:
        rate, breakdown = courier_rate(env, deliveries, processes, GREENLETS, payload, gevent=True)
    return rate, breakdown["workers"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=5000)
    args = parser.parse_args()
    print(f"cost: {args.deliveries} deliveries per run, {GREENLETS} greenlets per worker process")
    shapes = [(processes, 1024) for processes in (1, 2, 4)] + [(2, 10 * 1024), (2, 100 * 1024)]
    for processes, payload in shapes:
        rate, cpu = measure(args.deliveries, processes, payload)
        label = f"{processes} process{'es' if processes > 1 else ''}, {payload // 1024} KB"
        print(f"  {label:22} {rate:7.0f} deliveries/s   {cpu:.2f} ms worker CPU each")


if __name__ == "__main__":
    main()
