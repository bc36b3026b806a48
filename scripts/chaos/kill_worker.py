"""Drill 1: ``kill -9`` the worker dyno in the middle of a run, then start a new one.

    python -m scripts.chaos.kill_worker [--orders 2000] [--rate 100]

Whatever the killed processes held (messages fetched but not acknowledged, deliveries claimed
mid-request) is found again: Dramatiq's Redis broker gives a dead consumer's messages back, and the
sweeper re-sends deliveries whose lease lapsed.
"""

from __future__ import annotations

import signal

from scripts.chaos.drill import drill, parser, when


def main() -> None:
    args = parser(__doc__).parse_args()
    with drill("kill_worker") as run:
        placing = run.marketplace.place(args.orders, args.rate)
        when(0.5, args.orders, run.marketplace)
        run.stop_workers(signal.SIGKILL)
        run.start_workers()
        placing.join()
        run.wait_for_every_webhook(args.orders)
        print("drill 1, kill -9 the worker dyno mid-run, then start another\n  " + run.report(args.orders))


if __name__ == "__main__":
    main()
