"""Drill 2a: Redis loses everything it held, in the middle of a run.

    python -m scripts.chaos.flush_redis [--orders 2000] [--rate 100]

Every key of the run's namespace is deleted (queues, delayed retries, timers): what ``FLUSHALL`` does
to Courier, without touching anything else on the server. The outbox still says what is owed, and the
sweeper sends it again.
"""

from __future__ import annotations

import redis

from scripts.bench import harness
from scripts.chaos.drill import drill, parser, when


def main() -> None:
    args = parser(__doc__).parse_args()
    with drill("flush_redis") as run:
        placing = run.marketplace.place(args.orders, args.rate)
        when(0.5, args.orders, run.marketplace)
        client = redis.Redis.from_url(harness.REDIS_URL)
        flushed = list(client.scan_iter(match=f"{run.env.namespace}:*", count=1000))
        if flushed:
            client.delete(*flushed)
        placing.join()
        run.wait_for_every_webhook(args.orders)
        print(f"drill 2a, Redis emptied mid-run ({len(flushed)} keys)\n  " + run.report(args.orders))


if __name__ == "__main__":
    main()
