"""Plausible data in bulk, for the dashboard's benchmark and screenshots: partners with products and
prices, customers, orders in every status, their webhooks and the attempts made to deliver them, and a
few reconciliation conflicts.

Rows are written with multi-row INSERTs, so 10,000 orders and 100,000 attempts take seconds. The same
``seed`` (a random.Random) gives the same data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from models import catalogue, deliveries, keys, orders, partners, reconciliation, transactions, users
from models.base import new_id, utcnow
from models.db import db
from models.deliveries import Attempt, Delivery

PARTNERS = (
    ("Acme Broadband", "healthy"),
    ("Northwind Energy", "healthy"),
    ("Harbour Insurance", "failing"),
    ("Beacon Loans", "disabled"),
    ("Kestrel Mobile", "healthy"),
)
PRODUCTS = {
    "Acme Broadband": [("Superfast Fibre 500", "utilities_broadband"), ("Fibre 150", "utilities_broadband")],
    "Northwind Energy": [("Green Fixed 24", "utilities_energy"), ("Flexible Tariff", "utilities_energy")],
    "Harbour Insurance": [
        ("Home Cover Plus", "insurance_home_insurance"),
        ("Pet Care", "insurance_pet_insurance"),
    ],
    "Beacon Loans": [("Personal Loan", "lending_loans")],
    "Kestrel Mobile": [("SIM Only 30GB", "utilities_mobile_phones")],
}
FIRST_NAMES = ("Lisa", "Omar", "Priya", "Tom", "Aisha", "Jack", "Mei", "Sam", "Zara", "Leo", "Nina", "Ravi")
LAST_NAMES = ("Nichols", "Khan", "Patel", "Walsh", "Okafor", "Reid", "Chen", "Hughes", "Ali", "Evans")
STATUS_WEIGHTS = {orders.SUCCESSFUL: 70, orders.FAILED: 8, orders.NEED_MORE_INFO: 7, orders.PENDING: 15}
BATCH = 500
# Orders whose payment ended otherwise at the provider while their partner answered them: the order's
# status, the transaction's, and what an operator noted on the transaction.
CONFLICTS = (
    (orders.SUCCESSFUL, transactions.CANCELLED, ""),
    (orders.SUCCESSFUL, transactions.FAILED, ""),
    (orders.FAILED, transactions.COMPLETED, "Refund requested from the provider."),
)


@dataclass(frozen=True)
class Seeded:
    partner_key: str  # the first partner's ("Acme Broadband")
    operator_key: str
    partner_ids: list[str]
    order_ids: list[str]


def _batches(rows: list[dict[str, Any]], size: int = BATCH):
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def seed(order_count: int, attempt_count: int, *, now: datetime | None = None, seed: int = 5) -> Seeded:
    """Write ``order_count`` orders with one webhook each and about ``attempt_count`` attempts in all.

    A tenth of the orders are from the last hour, so the charts have something to show.
    """
    rng = random.Random(seed)
    now = now or utcnow()
    with db.atomic():
        made = _catalogue(now)
        user_ids = _users(rng, max(10, order_count // 4), now)
        order_rows = _orders(rng, made, user_ids, order_count, now)
        plans = _delivery_plans(rng, made, order_rows, attempt_count)
        delivery_ids = _deliveries(order_rows, plans)
        _attempts(rng, made, order_rows, delivery_ids, plans, now)
        _conflicts(order_rows, now)
        acme = made["partners"][0]
        return Seeded(
            partner_key=keys.issue_key(keys.PARTNER, acme)[1],
            operator_key=keys.issue_key(keys.OPERATOR)[1],
            partner_ids=[p.id for p in made["partners"]],
            order_ids=[row["id"] for row in order_rows],
        )


def _catalogue(now: datetime) -> dict[str, Any]:
    made: dict[str, Any] = {"partners": [], "health": {}, "prices": []}
    for name, health in PARTNERS:
        slug = name.split()[0].lower()
        partner, _ = partners.create_partner(name, f"https://hooks.{slug}.example/courier")
        made["partners"].append(partner)
        made["health"][partner.id] = health
        for product_name, product_type in PRODUCTS[name]:
            product = catalogue.create_product(
                partner.id,
                {
                    "name": product_name,
                    "description": f"{product_name} from {name}.",
                    "enabled": True,
                    "meta": {"contract_months": "12"},
                    "product_type": product_type,
                },
            )
            for price_name, amount in (("Monthly payment", 2999), ("Annual payment", 32900)):
                made["prices"].append(
                    catalogue.create_price(product, {"name": price_name, "currency": "GBP", "amount": amount})
                )
        if health == "failing":
            partners.Partner.update(
                consecutive_failures=37,
                failing_since=now - timedelta(hours=5),
                last_success_at=now - timedelta(hours=5),
            ).where(partners.Partner.id == partner.id).execute()
        elif health == "disabled":
            partners.Partner.update(
                consecutive_failures=212,
                failing_since=now - timedelta(days=6),
                last_success_at=now - timedelta(days=6),
                disabled_at=now - timedelta(days=1),
                disabled_reason="every attempt failed for 5 days",
            ).where(partners.Partner.id == partner.id).execute()
        else:
            partners.Partner.update(last_success_at=now - timedelta(seconds=20)).where(
                partners.Partner.id == partner.id
            ).execute()
    return made


def _users(rng: random.Random, count: int, now: datetime) -> list[str]:
    rows: list[dict[str, Any]] = []
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        rows.append(
            {
                "id": new_id("tus"),
                "first_name": first,
                "last_name": last,
                "email": f"{first}.{last}.{i}@example.com".lower(),
                "phone": f"07700 9{rng.randrange(10**5):05d}",
                "address_line1": f"{rng.randrange(1, 200)} High Street",
                "city": rng.choice(("London", "Leeds", "Bristol", "Glasgow", "Cardiff")),
                "postcode": rng.choice(("N1 9GU", "LS1 4AP", "BS1 5TR", "G1 1XQ", "CF10 1EP")),
                "country": "GB",
                "created_at": now - timedelta(days=30),
            }
        )
    for batch in _batches(rows):
        users.EndUser.insert_many(batch).execute()
    return [row["id"] for row in rows]


def _orders(rng, made, user_ids, count, now) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    statuses, weights = zip(*STATUS_WEIGHTS.items(), strict=True)
    for i in range(count):
        price = rng.choice(made["prices"])
        # The newest tenth within the last hour, the rest over the week before.
        age = (
            timedelta(seconds=rng.uniform(0, 3600))
            if i < count // 10
            else timedelta(hours=rng.uniform(1, 168))
        )
        created = now - age
        status = rng.choices(statuses, weights)[0]
        if age < timedelta(minutes=2):
            status = orders.PENDING
        output = {
            orders.SUCCESSFUL: {"reference": f"ACC-{rng.randrange(10**6):06d}"},
            orders.FAILED: {"error": "Address not serviceable"},
            orders.NEED_MORE_INFO: {"required_fields": "installation_date"},
            orders.PENDING: None,
        }[status]
        ends = created + timedelta(seconds=60)
        rows.append(
            {
                "id": new_id("po"),
                "partner": price.product.partner_id,
                "product": price.product_id,
                "price": price.id,
                "user": rng.choice(user_ids),
                "status": status,
                "input": {"installation_date": "2026-12-01", "sort_code": "11-22-33"},
                "output": output,
                "created_at": created,
                "updated_at": created,
                "answered_at": None if status == orders.PENDING else created + timedelta(seconds=2),
                "window_started_at": created,
                "window_ends_at": ends,
                "window_expired_at": ends if status == orders.PENDING and ends <= now else None,
            }
        )
    for batch in _batches(rows):
        orders.Order.insert_many(batch).execute()
    return rows


def _delivery_state(rng: random.Random, health: str) -> str:
    if health == "disabled":
        return deliveries.HELD
    if health == "failing":
        return rng.choice((deliveries.DEAD, deliveries.RETRYING, deliveries.RETRYING, deliveries.SUCCEEDED))
    return deliveries.SUCCEEDED if rng.random() < 0.995 else deliveries.DEAD


FIRST_TIME = 0.9  # the share of a healthy partner's deliveries that succeed at the first attempt


@dataclass(frozen=True)
class Plan:
    state: str
    tries: int  # attempts made


def _delivery_plans(rng, made, order_rows, total) -> list[Plan]:
    """Each order's webhook: its state, and how many attempts it took: one for most of a healthy
    partner's, ``tries`` for the rest, with ``tries`` chosen so that the attempts add up to ``total``."""
    states = [_delivery_state(rng, made["health"][order["partner"]]) for order in order_rows]
    first_time = [
        made["health"][order["partner"]] == "healthy"
        and state == deliveries.SUCCEEDED
        and rng.random() < FIRST_TIME
        for order, state in zip(order_rows, states, strict=True)
    ]
    others = len(first_time) - sum(first_time)
    tries = max(1, round((total - sum(first_time)) / max(1, others)))
    return [Plan(state, 1 if quick else tries) for state, quick in zip(states, first_time, strict=True)]


def _deliveries(order_rows, plans) -> list[int]:
    rows = []
    for order, plan in zip(order_rows, plans, strict=True):
        state = plan.state
        rows.append(
            {
                "webhook_id": new_id("msg"),
                "partner": order["partner"],
                "order": order["id"],
                "event_type": orders.EVENT_CREATED,
                "payload": deliveries.serialise({"id": order["id"], "event": orders.EVENT_CREATED}),
                "state": state,
                "attempt_count": plan.tries,
                "created_at": order["created_at"],
                "next_attempt_at": None,
                "delivered_at": order["created_at"] if state == deliveries.SUCCEEDED else None,
            }
        )
    ids: list[int] = []
    for batch in _batches(rows):
        ids.extend(row[0] for row in Delivery.insert_many(batch).returning(Delivery.id).tuples().execute())
    return ids


def _attempts(rng, made, order_rows, delivery_ids, plans, now) -> None:
    urls = {partner.id: partner.webhook_url for partner in made["partners"]}
    rows: list[dict[str, Any]] = []
    for order, delivery_id, plan in zip(order_rows, delivery_ids, plans, strict=True):
        for n in range(plan.tries):
            ok = plan.state == deliveries.SUCCEEDED and n == plan.tries - 1
            timeout = not ok and rng.random() < 0.1
            rows.append(
                {
                    "delivery": delivery_id,
                    # Each attempt at its own moment (they are unique per delivery), before now.
                    "attempted_at": min(
                        now - timedelta(seconds=plan.tries - n),
                        order["created_at"] + timedelta(seconds=n * rng.uniform(1, 30)),
                    ),
                    "url": urls[order["partner"]],
                    "status_code": None if timeout else (200 if ok else rng.choice((500, 502, 503))),
                    "error": "timed out after 15 s" if timeout else None,
                    "duration_ms": 15000 if timeout else int(rng.lognormvariate(4.8, 0.6)),
                    "response_excerpt": '{"received":true}' if ok else (None if timeout else "Bad Gateway"),
                    "trigger": deliveries.SCHEDULED,
                }
            )
    for batch in _batches(rows):
        Attempt.insert_many(batch).execute()


def _conflicts(order_rows, now) -> None:
    """One conflict per ``CONFLICTS`` line, each for another partner's order of the last hour, made as
    the system makes them: the order's transaction is opened as placing it does, ended as a PATCH does,
    and reconciled with the partner's answer."""
    partners_used: set[str] = set()
    recent = order_rows[: max(1, len(order_rows) // 10)]
    for order_status, ended, notes in CONFLICTS:
        row = next(
            (r for r in recent if r["status"] == order_status and r["partner"] not in partners_used), None
        )
        if row is None:
            continue
        partners_used.add(row["partner"])
        order = orders.get_order(row["id"], in_full=True)
        transaction = transactions.open_for_order(order, order.price)
        transactions.update_transaction(transaction, {"status": ended, "notes": notes})
        reconciliation.reconcile(order.id, now=min(now, row["answered_at"] + timedelta(minutes=1)))
