"""Benchmark 6: how the cost grows, with worker processes and with payload size.

    python -m scripts.bench.cost [--deliveries 5000]

Deliveries per second and worker CPU per delivery, draining a backlog to a local receiver: with 1, 2
and 4 worker processes (8 threads each, 1 KB payloads), then with 1 KB, 10 KB and 100 KB payloads
(2 processes).
"""

from __future__ import annotations

import argparse

from scripts.bench import harness
from scripts.bench.throughput import courier_rate


def measure(deliveries: int, processes: int, payload: int) -> tuple[float, float]:
    with harness.scratch("cost") as env:
        return courier_rate(env, deliveries, processes, 8, payload)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=5000)
    args = parser.parse_args()
    print(f"cost: {args.deliveries} deliveries per run, 8 threads per worker process")
    shapes = [(processes, 1024) for processes in (1, 2, 4)] + [(2, 10 * 1024), (2, 100 * 1024)]
    for processes, payload in shapes:
        rate, cpu = measure(args.deliveries, processes, payload)
        label = f"{processes} process{'es' if processes > 1 else ''}, {payload // 1024} KB"
        print(f"  {label:22} {rate:7.0f} deliveries/s   {cpu * 1000:.2f} ms worker CPU each")


if __name__ == "__main__":
    main()
