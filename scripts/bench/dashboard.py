"""How fast the dashboard's pages load with 10,000 orders and 100,000 delivery attempts.

    python -m scripts.bench.dashboard                          # a temporary SQLite file
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench python -m scripts.bench.dashboard

The database must be empty (it is migrated and seeded here; create and drop a PostgreSQL one around the
run). Each page is requested through the Flask test client, once to warm up and then ``--loads`` times,
signed in as a partner or an operator; the table gives the median and slowest load, the SQL statements
one load ran, and whether the slowest stayed under the one-second limit. Exits 1 if any page did not.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

LIMIT_SECONDS = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description="Time the dashboard's pages on a large database.")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--loads", type=int, default=7)
    args = parser.parse_args()

    os.environ.pop("REDIS_URL", None)  # page loads send no message; keep the broker in memory
    tmp = tempfile.TemporaryDirectory(prefix="courier-bench-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(tmp.name) / 'bench.db'}"

    import settings as settings_module
    from api import create_app
    from models import orders
    from models.db import close_connection, statements_run
    from scripts import demo_data
    from scripts.migrate import migrate

    settings = replace(settings_module.load(), database_url=url, redis_url=None)
    migrate(settings.database_url)
    if orders.Order.select().exists():
        sys.exit(f"{url} already holds orders: give the benchmark an empty database.")
    started = time.perf_counter()
    seeded = demo_data.seed(args.orders, args.attempts)
    print(f"database   {url}")
    took = time.perf_counter() - started
    print(f"seeded     {args.orders:,} orders, {args.attempts:,} attempts in {took:.1f} s")
    close_connection()

    app = create_app(settings)
    partner, operator = app.test_client(), app.test_client()
    for client, key in ((partner, seeded.partner_key), (operator, seeded.operator_key)):
        form = client.get("/dashboard/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token, "the sign-in page has no CSRF token"
        signed_in = client.post("/dashboard/sign-in", data={"csrf_token": token[1], "api_key": key})
        assert signed_in.status_code == 302

    busiest = _busiest_delivery()
    pages = [
        (partner, "/dashboard/orders"),
        (partner, "/dashboard/orders?status=Pending&expired=1"),
        (partner, "/dashboard/orders?undelivered=1"),
        (partner, "/dashboard/orders?status=Failed"),
        (partner, f"/dashboard/orders/{_an_order_of(seeded.partner_ids[0])}"),
        (partner, "/dashboard/products"),
        (operator, "/dashboard/deliveries"),
        (operator, f"/dashboard/deliveries?partner_id={seeded.partner_ids[2]}&state=retrying"),
        (operator, f"/dashboard/deliveries/{busiest}"),
        (operator, "/dashboard/deliveries/requeue"),
        (operator, "/dashboard/partners"),
        (operator, "/dashboard/conflicts"),
    ]
    print(f"\n{'page':<66} {'median':>8} {'max':>8} {'queries':>8}")
    slow = 0
    for client, path in pages:
        client.get(path)  # warm-up
        timings, statements = [], 0
        for _ in range(args.loads):
            with statements_run() as run:
                began = time.perf_counter()
                response = client.get(path)
                timings.append(time.perf_counter() - began)
            statements = len(run)
            assert response.status_code == 200, (path, response.status_code)
        ok = max(timings) < LIMIT_SECONDS
        slow += not ok
        print(
            f"{path[:66]:<66} {statistics.median(timings) * 1000:>6.0f}ms {max(timings) * 1000:>6.0f}ms "
            f"{statements:>8}  {'ok' if ok else 'OVER 1 s'}"
        )
    tmp.cleanup()
    return 1 if slow else 0


def _an_order_of(partner_id: str) -> str:
    from models import orders

    order = orders.Order.select(orders.Order.id).where(orders.Order.partner == partner_id).first()
    return order.id


def _busiest_delivery() -> int:
    from models.deliveries import Delivery

    return Delivery.select(Delivery.id).order_by(Delivery.attempt_count.desc()).first().id


if __name__ == "__main__":
    sys.exit(main())
