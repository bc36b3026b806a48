"""Benchmark 2: end-to-end latency, from an order accepted by the API to its webhook at the partner.

    python -m scripts.bench.latency [--orders 2000] [--rate N]

On an idle system (orders one after another), then under load: orders arriving at half of the
system's measured throughput (``--rate`` to choose another), the rate at which the API took orders,
with the workers delivering them, when 32 clients sent them as fast as it answered. The API runs under
gunicorn and the workers under ``dramatiq-gevent``, as the Procfile runs them, on the same machine as
the clients. Latency is the receiver's arrival time minus the order's ``created_at``, both from this
machine's clock; the rates printed are those at which the API took the orders (their ``created_at``).
"""

from __future__ import annotations

import argparse
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from scripts.bench import harness


def place_orders(api_url: str, shops: list[harness.Shop], rate: float | None) -> None:
    """One order per shop in ``shops``: one after another (``rate`` None), or arriving at ``rate`` per
    second whether or not earlier ones have been answered (an open loop, as customers arrive), from up
    to 32 clients at once (``math.inf``: each client sends its next as soon as it has an answer)."""
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


def latencies(webhook_url: str) -> tuple[list[float], float]:
    """Each order's latency, and the rate at which the API accepted the orders (from their clocks)."""
    arrived = harness.receiver_stats(webhook_url)["first_seen"]
    orders = harness.webhook_ids_by_order().values()
    accepted = sorted(created for _, created in orders)
    rate = (len(accepted) - 1) / (accepted[-1] - accepted[0])
    return [arrived[webhook_id] - created for webhook_id, created in orders], rate


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


def measure(orders: int, rate: float | None) -> tuple[list[float], float]:
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
        "--rate", type=float, help="orders per second under load (default: half the measured capacity)"
    )
    args = parser.parse_args()
    idle, _ = measure(args.orders, None)
    rate, capacity = args.rate, None
    if rate is None:
        saturated, capacity = measure(args.orders, math.inf)
        rate = capacity / 2
    loaded, accepted = measure(args.orders, rate)
    print(f"latency, order accepted -> webhook received ({args.orders} orders each)")
    print(f"  idle                 {harness.describe(idle)}")
    if capacity is not None:
        print(f"  saturated, {capacity:.0f}/s   {harness.describe(saturated)}   (as fast as taken)")
    print(f"  at {accepted:.0f} orders/s   {harness.describe(loaded)}")
    print("  target: p50 <= 15 ms, p99 <= 50 ms")


if __name__ == "__main__":
    main()
