"""What every chaos drill shares: the system running as on dynos, a marketplace placing orders, and the
receiver's own record of what arrived.

Each drill runs the API (gunicorn), the workers (the Procfile's worker line) and the clock against a
database and Redis namespace of its own, places orders through the API at a steady rate while something
breaks, waits until every order's webhook has arrived, and ends by printing

    orders=N delivered=N lost=0 duplicates=K

from the receiver's record: ``delivered`` counts the orders whose webhook-id reached the partner,
``duplicates`` the extra copies (allowed: delivery is at least once, and each copy carries its
order's webhook-id). The marketplace retries a request that failed (a 503, a dropped connection) with
the same ``Idempotency-Key``, as a client should; an order it was never told was accepted is not one
it placed.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests

from scripts.bench import harness

# Shorter than production so that a drill ends in minutes: the first retries come sooner, a hanging
# endpoint is given up on sooner, and the sweeper looks for lost messages sooner.
DRILL_SETTINGS = {
    "WEBHOOK_RETRY_SCHEDULE": "1,2,5,10,20,30",
    "WEBHOOK_TIMEOUT_SECONDS": "3",
    "SWEEPER_GRACE_SECONDS": "5",
}


@dataclass
class Marketplace:
    """Places orders at a steady rate on its own thread, retrying each until the API accepts it."""

    api_url: str
    shop: harness.Shop
    accepted: list[str] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)

    def place(self, count: int, rate: float) -> threading.Thread:
        thread = threading.Thread(target=self._place_all, args=(count, rate), daemon=True)
        thread.start()
        return thread

    def _place_all(self, count: int, rate: float) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.shop.marketplace_key}"
        started = time.monotonic()
        for n in range(count):
            pause = started + n / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self.accepted.append(self._place_one(session))

    def _place_one(self, session: requests.Session) -> str:
        key = str(uuid.uuid4())  # one per order, kept across its retries
        while True:
            try:
                response = session.post(
                    f"{self.api_url}/orders",
                    json=self.shop.order(),
                    headers={"Idempotency-Key": key},
                    timeout=10,
                )
            except requests.RequestException as exc:
                self.refusals[type(exc).__name__] += 1
            else:
                if response.status_code == 201:
                    return response.json()["id"]
                self.refusals[f"HTTP {response.status_code} {response.json()['error']['code']}"] += 1
            time.sleep(0.25)


@dataclass
class Drill:
    env: harness.Scratch
    webhook_url: str
    api_url: str
    marketplace: Marketplace
    workers: subprocess.Popen | None = None

    def start_workers(self) -> subprocess.Popen:
        self.workers = self.env.start_procfile_worker()
        return self.workers

    def stop_workers(self, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        assert self.workers is not None
        self.env.stop(self.workers, sig, timeout)

    def wait_for_every_webhook(self, orders: int, timeout: float = 600) -> None:
        def arrived() -> bool:
            stats = harness.receiver_stats(self.webhook_url)
            return len(self.marketplace.accepted) == orders and stats["unique"] >= orders

        harness.wait_until(arrived, timeout, 1, "every order's webhook")

    def report(self, orders: int) -> str:
        stats = harness.receiver_stats(self.webhook_url)
        by_order = harness.webhook_ids_by_order()
        received = stats["first_seen"]
        delivered = sum(1 for order_id in self.marketplace.accepted if by_order[order_id][0] in received)
        lost = len(self.marketplace.accepted) - delivered
        refusals = ", ".join(f"{what} x{count}" for what, count in self.marketplace.refusals.most_common())
        return (
            f"orders={len(self.marketplace.accepted)} delivered={delivered} lost={lost} "
            f"duplicates={stats['duplicates']}"
            + (f"\n  the marketplace retried after: {refusals}" if refusals else "")
        )


@contextlib.contextmanager
def drill(name: str, *receiver_flags: str, **settings: str) -> Iterator[Drill]:
    """The system up and idle, with a partner whose endpoint is a receiver keeping its own record."""
    with harness.scratch(f"chaos_{name}", **{**DRILL_SETTINGS, **settings}) as env:
        webhook_url = env.start_receiver(*receiver_flags)
        shop = harness.make_shop(webhook_url)
        api_url = harness.start_api(env)
        running = Drill(env, webhook_url, api_url, Marketplace(api_url, shop))
        running.start_workers()
        env.start("bash", "-c", "exec python -m scripts.clock")
        time.sleep(2)  # let the workers boot
        yield running


def when(fraction: float, orders: int, marketplace: Marketplace, timeout: float = 300) -> None:
    """Wait until ``fraction`` of the orders have been accepted: the middle of the run."""
    harness.wait_until(lambda: len(marketplace.accepted) >= orders * fraction, timeout, 0.1, "the run")


def parser(doc: str | None) -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    arguments.add_argument("--orders", type=int, default=2000)
    arguments.add_argument("--rate", type=float, default=100, help="orders placed per second")
    return arguments
