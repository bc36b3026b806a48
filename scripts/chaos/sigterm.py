"""Drill 5: SIGTERM to the worker dyno in the middle of a run, as a dyno restart sends it.

    python -m scripts.chaos.sigterm [--orders 2000] [--rate 100]

The worker finishes the deliveries in flight (the Procfile gives it 25 s, under the dyno's 30) and
hands back the messages it had fetched but not started. Checked once it has exited, before a new one
starts: no delivery is left claimed ("delivering").
"""

from __future__ import annotations

import signal
import time

from scripts.bench import harness
from scripts.chaos.drill import drill, parser, when


def main() -> None:
    args = parser(__doc__).parse_args()
    with drill("sigterm") as run:
        placing = run.marketplace.place(args.orders, args.rate)
        when(0.5, args.orders, run.marketplace)
        stopping = time.monotonic()
        run.stop_workers(signal.SIGTERM, timeout=60)
        stopped_in = time.monotonic() - stopping
        left_claimed = harness.count_in_state("delivering")
        run.start_workers()
        placing.join()
        run.wait_for_every_webhook(args.orders)
        print(
            f"drill 5, SIGTERM to the worker dyno mid-run: it stopped in {stopped_in:.1f} s "
            f"leaving {left_claimed} deliveries claimed\n  " + run.report(args.orders)
        )


if __name__ == "__main__":
    main()
