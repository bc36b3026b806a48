"""Benchmark 4: isolation. One partner's endpoint hangs until the timeout on every request; how long
do the other partners' webhooks take?

    python -m scripts.bench.isolation [--orders 2000] [--rate 50] [--partners 4]

Orders arrive through the API at ``--rate`` per second, one in five for the hanging partner, the rest
spread over the healthy ones; the worker runs as the Procfile runs it, with the production timeout
(15 s). Reported: the healthy partners' latency (order accepted -> webhook received), target p99 < 1 s.
"""

from __future__ import annotations

import argparse
import itertools
import time

from scripts.bench import harness
from scripts.bench.latency import place_orders


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--partners", type=int, default=4, help="healthy partners")
    args = parser.parse_args()
    with harness.scratch("isolation") as env:
        hanging = harness.make_shop(env.start_receiver("--hang"), "Hanging")
        healthy_urls = [env.start_receiver() for _ in range(args.partners)]
        healthy = [harness.make_shop(url, f"Healthy {n}") for n, url in enumerate(healthy_urls)]
        api_url = harness.start_api(env)
        env.start_procfile_worker()
        time.sleep(2)
        rotation = itertools.cycle([hanging, *healthy])
        shops = [next(rotation) for _ in range(args.orders)]
        place_orders(api_url, shops, args.rate)
        healthy_count = sum(shop is not hanging for shop in shops)
        harness.wait_until(
            lambda: harness.count_in_state("succeeded") == healthy_count, 120, what="the healthy webhooks"
        )
        accepted = harness.webhook_ids_by_order()
        arrived: dict[str, float] = {}
        for url in healthy_urls:
            arrived.update(harness.receiver_stats(url)["first_seen"])
        latencies = [
            arrived[webhook_id] - at for webhook_id, at in accepted.values() if webhook_id in arrived
        ]
        stuck = harness.receiver_stats(hanging.webhook_url)
    print(
        f"isolation: {args.orders} orders at {args.rate:.0f}/s, "
        f"1 in {args.partners + 1} to an endpoint that hangs\n"
        f"  healthy partners' latency  {harness.describe(latencies)}\n"
        f"  the hanging endpoint held {stuck['max_in_flight']} requests at most (the Procfile's worker)\n"
        f"  target: p99 < 1000 ms"
    )


if __name__ == "__main__":
    main()
