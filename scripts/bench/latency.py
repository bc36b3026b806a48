"""Benchmark 2: end-to-end latency, from an order accepted by the API to its webhook at the partner.

    python -m scripts.bench.latency [--orders 2000] [--rate N]

Twice: on an idle system (orders one after another), and under load, with orders arriving at half of
the workers' measured throughput (``--rate``, or measured first with benchmark 1's method). The API
runs under gunicorn and the workers under ``dramatiq`` as the Procfile runs them. Latency is the
receiver's arrival time minus the order's ``created_at``, both from this machine's clock.
"""

from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from scripts.bench import harness
from scripts.bench.throughput import courier_rate


def place_orders(api_url: str, shops: list[harness.Shop], rate: float | None) -> None:
    """One order per shop in ``shops``: one after another (``rate`` None), or arriving at ``rate`` per
    second whether or not earlier ones have been answered (an open loop, as customers arrive)."""
    local = threading.local()

    def place(shop: harness.Shop) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        headers = {"Authorization": f"Bearer {shop.marketplace_key}"}
        response = session.post(f"{api_url}/orders", json=shop.order(), headers=headers, timeout=30)
        response.raise_for_status()

    if rate is None:
        for shop in shops:
            place(shop)
            time.sleep(0.01)  # idle between orders: each one finds the system at rest
        return
    with ThreadPoolExecutor(max_workers=32) as pool:
        started = time.monotonic()
        futures = []
        for n, shop in enumerate(shops):
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(place, shop))
        for future in futures:
            future.result()


def latencies(webhook_url: str) -> list[float]:
    arrived = harness.receiver_stats(webhook_url)["first_seen"]
    orders = harness.webhook_ids_by_order().values()
    return [arrived[webhook_id] - accepted for webhook_id, accepted in orders]


def breakdown() -> str:
    """Where the time goes: accepted -> the worker's request starts, and the request itself."""
    from models.db import db

    with db.connection_context():
        rows = db.execute_sql(
            'SELECT EXTRACT(EPOCH FROM (a."attempted_at" - o."created_at")) * 1000 - a."duration_ms", '
            'a."duration_ms" FROM "attempt" a JOIN "delivery" d ON d."id" = a."delivery_id" '
            'JOIN "purchase_order" o ON o."id" = d."order_id"'
        ).fetchall()
    waits = [float(wait) / 1000 for wait, _ in rows]
    durations = [float(duration) / 1000 for _, duration in rows]
    return (
        f"    until the request starts: {harness.describe(waits)}\n"
        f"    the request itself:       {harness.describe(durations)}"
    )


def measure(orders: int, rate: float | None) -> list[float]:
    with harness.scratch("latency") as env:
        webhook_url = env.start_receiver()
        shop = harness.make_shop(webhook_url)
        api_url = harness.start_api(env)
        env.start_procfile_worker()
        time.sleep(2)  # let the workers boot
        place_orders(api_url, [shop] * orders, rate)
        harness.wait_until(lambda: harness.count_in_state("succeeded") == orders, 120, what="the webhooks")
        print(breakdown())
        return latencies(webhook_url)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument(
        "--rate", type=float, help="orders per second under load (default: half the throughput)"
    )
    args = parser.parse_args()
    rate = args.rate
    if rate is None:
        with harness.scratch("latency_throughput") as env:
            rate = courier_rate(env, 5000, 2, 256, 1024, gevent=True)[0] / 2
    idle = measure(args.orders, None)
    loaded = measure(args.orders, rate)
    print(
        f"latency, order accepted -> webhook received ({args.orders} orders each)\n"
        f"  idle                 {harness.describe(idle)}\n"
        f"  at {rate:.0f} orders/s   {harness.describe(loaded)}\n"
        f"  target: p50 <= 15 ms, p99 <= 50 ms"
    )


if __name__ == "__main__":
    main()
