"""Drill 3: PostgreSQL restarts in the middle of a run.

    python -m scripts.chaos.restart_postgres [--orders 2000] [--rate 100] [--down 5]

Stops the cluster for ``--down`` seconds and starts it again. While it is down the API must answer
503 with a JSON error (the marketplace retries with the same Idempotency-Key), and afterwards every
process must recover by itself: no restart, no operator. Run it on a machine where nothing else needs
that PostgreSQL for the minute it takes.
"""

from __future__ import annotations

import glob
import os
import subprocess
import time

from models.db import db
from scripts.chaos.drill import drill, parser, when


def cluster() -> tuple[str, str]:
    version = os.path.basename(sorted(glob.glob("/etc/postgresql/*"))[-1])
    return version, "main"


def pg_ctl(action: str) -> None:
    version, name = cluster()
    subprocess.run(
        [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            version,
            name,
            action,
            *(["-m", "fast"] if action == "stop" else []),
        ],
        check=True,
    )


def main() -> None:
    parser_ = parser(__doc__)
    parser_.add_argument("--down", type=float, default=5, help="seconds PostgreSQL stays down")
    args = parser_.parse_args()
    with drill("restart_postgres") as run:
        placing = run.marketplace.place(args.orders, args.rate)
        when(0.5, args.orders, run.marketplace)
        pg_ctl("stop")
        time.sleep(args.down)
        pg_ctl("start")
        db.obj.close_all()  # this script's own connections died with the server; Courier's recover alone
        placing.join()
        run.wait_for_every_webhook(args.orders)
        unavailable = run.marketplace.refusals.get("HTTP 503 service_unavailable", 0)
        print(
            f"drill 3, PostgreSQL down for {args.down:g} s mid-run "
            f"(the API answered 503 service_unavailable {unavailable} times meanwhile)\n  "
            + run.report(args.orders)
        )


if __name__ == "__main__":
    main()
