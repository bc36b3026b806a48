"""What every benchmark and drill needs: a scratch database and Redis namespace, a receiver, workers.

Everything runs on loopback against the PostgreSQL and Redis given by ``DATABASE_URL`` and
``REDIS_URL`` (defaults: 127.0.0.1, database ``test``). Each run makes its own database and Redis
namespace and removes them when it ends, whatever happens; every process it starts is stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2
import redis
import requests

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVER_DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(probe: Callable[[], object], timeout: float, interval: float = 0.05, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what or probe}")
        time.sleep(interval)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low, high = int(rank), min(int(rank) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def describe(values: list[float], unit: str = "ms", scale: float = 1000.0) -> str:
    return (
        ", ".join(f"p{p} {percentile(values, p) * scale:.1f} {unit}" for p in (50, 95, 99))
        + f" (n={len(values)}, mean {statistics.fmean(values) * scale:.1f} {unit})"
    )


@dataclass
class Scratch:
    """A database and a Redis namespace of this run's own, and the environment that points at them."""

    database: str
    database_url: str
    namespace: str
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        environment = dict(os.environ)
        environment.update(
            # The project's interpreter and its commands first, as on a dyno (dramatiq, gunicorn ...).
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}",
            DATABASE_URL=self.database_url,
            REDIS_URL=REDIS_URL,
            REDIS_NAMESPACE=self.namespace,
            WEBHOOK_ALLOW_PRIVATE_NETWORKS="1",
            PYTHONPATH=str(PROJECT_ROOT),
        )
        environment.update(self.extra_env)
        return environment

    @property
    def broker(self):
        """A broker for this run's namespace. (``workers.broker`` is built once per process, from the
        environment of the first run; a benchmark that makes several runs sends through this one.)"""
        if not hasattr(self, "_broker"):
            from workers.redis_wakeup import WakingRedisBroker

            self._broker = WakingRedisBroker(url=REDIS_URL, namespace=self.namespace)
            self._broker.declare_queue("webhooks")
        return self._broker

    def start(self, *command: str, env: dict[str, str] | None = None, quiet: bool = True) -> subprocess.Popen:
        process = subprocess.Popen(
            list(command),
            cwd=PROJECT_ROOT,
            env={**self.env, **(env or {})},
            stdout=subprocess.DEVNULL if quiet else None,
            stderr=subprocess.DEVNULL if quiet else None,
            start_new_session=True,  # its own process group, so that stopping it stops its children
        )
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def start_receiver(self, *flags: str) -> str:
        port = free_port()
        self.start(sys.executable, "-m", "scripts.bench.receiver", "--port", str(port), *flags)
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(url), 10, what="the receiver")
        return url + "/webhooks"

    def start_procfile_worker(self, env: dict[str, str] | None = None) -> subprocess.Popen:
        """The Procfile's ``worker:`` line, through a shell as a dyno runs it (its defaults expand there)."""
        for line in (PROJECT_ROOT / "Procfile").read_text().splitlines():
            if line.startswith("worker:"):
                return self.start("bash", "-c", "exec " + line.split(":", 1)[1].strip(), env=env)
        raise RuntimeError("the Procfile has no worker line")

    def start_workers(
        self, processes: int = 2, threads: int = 8, env: dict[str, str] | None = None, gevent: bool = False
    ) -> subprocess.Popen:
        command = "dramatiq-gevent" if gevent else "dramatiq"
        return self.start(
            str(Path(sys.executable).parent / command),
            "workers",
            "--processes",
            str(processes),
            "--threads",
            str(threads),
            env=env,
        )


def _answers(url: str) -> bool:
    try:
        requests.get(url + "/stats", timeout=0.5)
        return True
    except requests.RequestException:
        return False


def receiver_stats(webhook_url: str) -> dict:
    return requests.get(webhook_url.replace("/webhooks", "/stats"), timeout=30).json()


def _server_connection():
    connection = psycopg2.connect(SERVER_DATABASE_URL.replace("postgres://", "postgresql://", 1))
    connection.autocommit = True
    return connection


@contextlib.contextmanager
def scratch(name: str, **extra_env: str) -> Iterator[Scratch]:
    """A fresh, migrated database and Redis namespace, bound in this process too; removed at the end."""
    run = f"{name}_{uuid.uuid4().hex[:8]}"
    database = f"courier_{run}"
    parsed = urlparse(SERVER_DATABASE_URL)
    database_url = urlunparse(parsed._replace(path="/" + database))
    connection = _server_connection()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{database}"')
    env = Scratch(database, database_url, f"bench-{run}", dict(extra_env))
    # A run stopped with SIGTERM (or timeout(1)) still cleans up: exit through the finally below.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ.update({k: v for k, v in env.env.items() if k not in ("PYTHONPATH",)})
    try:
        from scripts.migrate import migrate

        migrate(database_url)
        yield env
    finally:
        for process in env.processes:
            env.stop(process, signal.SIGKILL, timeout=10)
        from models.db import db

        if db.obj is not None and hasattr(db.obj, "close_all"):
            db.obj.close_all()
        connection.close()
        connection = _server_connection()  # a fresh one: a drill may have restarted the server
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.close()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{env.namespace}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        signal.signal(signal.SIGTERM, previous)


def sample_payload(size: int = 1024) -> dict:
    """An order as a webhook carries it, padded to about ``size`` bytes of JSON."""
    order_input = {"first_name": "Lisa", "last_name": "Nichols", "sort_code": "11-22-33"}
    order = {
        "id": "po_" + uuid.uuid4().hex[:21],
        "status": "Pending",
        "input": order_input,
        "prod_id": "prod_EfeUDJnTVdDigaqQ9rMaC",
        "pricing_id": "price_xxxxxxxxxxxxxxxxxxxxx",
        "tpp_user_id": "tus_xxxxxxxxxxxxxxxxxxxxx",
        "output": None,
        "event": "order.created",
    }
    padding = max(0, size - len(json.dumps(order)) - 20)
    order_input["notes"] = "x" * padding
    return order


def seed_deliveries(partner_id: str, count: int, payload_size: int = 1024, chunk: int = 2000) -> list[int]:
    """``count`` pending deliveries for ``partner_id``, written in bulk; returns their ids in order."""
    from models.base import new_id, utcnow
    from models.db import db
    from models.deliveries import Delivery, serialise

    ids: list[int] = []
    for start in range(0, count, chunk):
        now = utcnow()
        rows: list[dict[str, object]] = [
            {
                "webhook_id": new_id("msg"),
                "partner": partner_id,
                "event_type": "order.created",
                "payload": serialise(sample_payload(payload_size)),
                "next_attempt_at": now,
                "created_at": now,
            }
            for _ in range(min(chunk, count - start))
        ]
        with db.atomic():
            ids.extend(row[0] for row in Delivery.insert_many(rows).returning(Delivery.id).tuples().execute())
    return ids


def enqueue(env: Scratch, delivery_ids: list[int]) -> None:
    """One wake-up per delivery, as the API sends one per order."""
    from workers.delivery import deliver_webhook

    for delivery_id in delivery_ids:
        env.broker.enqueue(deliver_webhook.message(delivery_id))


def count_in_state(state: str) -> int:
    from models.db import db

    with db.connection_context():
        return db.execute_sql("SELECT count(*) FROM delivery WHERE state = %s", (state,)).fetchone()[0]


def make_partner(webhook_url: str, name: str = "Bench") -> tuple[str, str, str]:
    """A partner with its key and secret: (partner id, api key, webhook secret)."""
    from models import keys, partners
    from models.db import db

    with db.atomic():
        partner, secret = partners.create_partner(name, webhook_url)
        _, api_key = keys.issue_key(keys.PARTNER, partner)
    return partner.id, api_key, secret


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (the dramatiq command forks its workers)."""
    total = 0
    for child in [pid, *_children(pid)]:
        with contextlib.suppress(FileNotFoundError):
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            for child in (task / "children").read_text().split():
                found.append(int(child))
                found.extend(_children(int(child)))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children, from /proc."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for process in [pid, *_children(pid)]:
        with contextlib.suppress(FileNotFoundError):
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


@dataclass(frozen=True)
class Shop:
    """What placing an order needs: a partner's product and price, a user, a marketplace key."""

    partner_id: str
    prod_id: str
    pricing_id: str
    tpp_user_id: str
    marketplace_key: str
    webhook_url: str

    def order(self, **order_input: str) -> dict:
        return {
            "prod_id": self.prod_id,
            "pricing_id": self.pricing_id,
            "tpp_user_id": self.tpp_user_id,
            "input": order_input or {"first_name": "Lisa", "sort_code": "11-22-33"},
        }


def make_shop(webhook_url: str, name: str = "Bench") -> Shop:
    from models import catalogue, keys, users
    from models.db import db

    partner_id, _, _ = make_partner(webhook_url, name)
    with db.atomic():
        product = catalogue.create_product(
            partner_id,
            {
                "name": "Fibre",
                "description": "Fast.",
                "enabled": True,
                "meta": {},
                "product_type": "utilities",
            },
        )
        price = catalogue.create_price(product, {"name": "Monthly", "currency": "GBP", "amount": 3999})
        user = users.create_user({"first_name": "Lisa", "last_name": "Nichols", "email": "lisa@example.com"})
        _, marketplace_key = keys.issue_key(keys.MARKETPLACE)
    return Shop(partner_id, product.id, price.id, user.id, marketplace_key, webhook_url)


def start_api(env: Scratch, **settings: str) -> str:
    """The API under gunicorn, as the Procfile's web line runs it; returns its base URL."""
    port = free_port()
    env.start(
        str(Path(sys.executable).parent / "gunicorn"),
        "api:create_app()",
        "--config",
        "gunicorn.conf.py",
        env={"PORT": str(port), "BIND_HOST": "127.0.0.1", **settings},
    )
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _healthy(url), 30, what="the API")
    return url


def _healthy(url: str) -> bool:
    try:
        return requests.get(url + "/health", timeout=0.5).status_code == 200
    except requests.RequestException:
        return False


def webhook_ids_by_order() -> dict[str, tuple[str, float]]:
    """Each order's first webhook id, and when the order was accepted (epoch seconds)."""
    from datetime import UTC

    from models.db import db

    with db.connection_context():
        rows = db.execute_sql(
            'SELECT o."id", d."webhook_id", o."created_at" FROM "purchase_order" o '
            'JOIN "delivery" d ON d."order_id" = o."id" WHERE d."event_type" = \'order.created\''
        ).fetchall()
    return {
        order_id: (webhook_id, created.replace(tzinfo=UTC).timestamp())
        for order_id, webhook_id, created in rows
    }


def _answers_post(url: str) -> bool:
    try:
        requests.post(url + "/orders", json={}, timeout=0.5)
        return True
    except requests.RequestException:
        return False


# What each process on this machine is, for the CPU breakdowns: by its command line.
_ROLES = (
    ("scripts.bench.receiver", "receiver"),
    ("scripts.bench.raw_sender", "raw client"),
    ("dramatiq", "workers"),
    ("gunicorn", "api"),  # the trivial app of benchmark 3 runs under gunicorn too
    ("postgres", "postgresql"),
    ("redis-server", "redis"),
)


def cpu_by_role() -> dict[str, float]:
    """CPU seconds used so far by every live process on the machine, summed by role."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            role = next((name for marker, name in _ROLES if marker in command), None)
            if role:
                totals[role] = totals.get(role, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return totals


@contextlib.contextmanager
def cpu_per_item(count: Callable[[], int]) -> Iterator[dict[str, float]]:
    """Milliseconds of CPU per item, by role, spent during the block; ``count()`` gives the items.

    Processes that end inside the block are not counted: stop them after it."""
    breakdown: dict[str, float] = {}
    before = cpu_by_role()
    yield breakdown
    after = cpu_by_role()
    items = max(count(), 1)
    for role in after:
        breakdown[role] = (after[role] - before.get(role, 0.0)) * 1000 / items


def describe_cpu(breakdown: dict[str, float]) -> str:
    parts = sorted(breakdown.items(), key=lambda item: -item[1])
    total = sum(value for _, value in parts)
    return f"{total:.2f} ms CPU per delivery: " + ", ".join(
        f"{role} {ms:.2f}" for role, ms in parts if ms >= 0.01
    )
