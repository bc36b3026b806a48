"""Drill 4: the partner's endpoint fails for the first part of a run, then recovers.

    python -m scripts.chaos.partner_outage [--orders 2000] [--rate 100] [--failures 600]

The receiver answers its first ``--failures`` requests with, in turn, a 500, a dropped connection
and no answer at all (until the sender's timeout), then answers every request with 200.
"""

from __future__ import annotations

from scripts.chaos.drill import drill, parser


def main() -> None:
    parser_ = parser(__doc__)
    parser_.add_argument("--failures", type=int, default=600)
    args = parser_.parse_args()
    with drill("partner_outage", "--fail-first", str(args.failures)) as run:
        run.marketplace.place(args.orders, args.rate).join()
        run.wait_for_every_webhook(args.orders)
        print(
            f"drill 4, the endpoint failed its first {args.failures} requests (500s, resets, timeouts)\n  "
            + run.report(args.orders)
        )


if __name__ == "__main__":
    main()
