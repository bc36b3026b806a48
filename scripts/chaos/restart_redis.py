"""Drill 2b: Redis restarts with no persistence in the middle of a run.

    python -m scripts.chaos.restart_redis [--orders 2000] [--rate 100]

Stops the Redis server on 127.0.0.1:6379 without saving and starts it again (the command the machine
starts it with); everything it held is gone and every client's connections are cut. Run it on a machine
where nothing else needs that Redis for the minute it takes.
"""

from __future__ import annotations

import subprocess
import time

import redis

from scripts.bench import harness
from scripts.chaos.drill import drill, parser, when

START = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


def restart_redis(down_seconds: float = 3) -> None:
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], check=False, capture_output=True)
    time.sleep(down_seconds)
    subprocess.run(START, shell=True, check=True)
    harness.wait_until(lambda: _pong(), 30, 0.2, "Redis")


def _pong() -> bool:
    try:
        return bool(redis.Redis.from_url(harness.REDIS_URL).ping())
    except redis.RedisError:
        return False


def main() -> None:
    args = parser(__doc__).parse_args()
    with drill("restart_redis") as run:
        placing = run.marketplace.place(args.orders, args.rate)
        when(0.5, args.orders, run.marketplace)
        restart_redis()
        placing.join()
        run.wait_for_every_webhook(args.orders)
        print("drill 2b, Redis restarted with no persistence mid-run\n  " + run.report(args.orders))


if __name__ == "__main__":
    main()
