"""Valid rows in one line each: ``partner = factories.partner(webhook_url=receiver.url)``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import count
from typing import Any

from models import buyers, catalogue, deliveries, keys, orders, partners, sellers, transactions, users
from models.base import utcnow

_serial = count(1)

UNREACHABLE_URL = "http://127.0.0.1:9/webhooks"  # the discard port: nothing listens there


@dataclass
class PartnerAccount:
    partner: partners.Partner
    api_key: str
    secret: str

    @property
    def id(self) -> str:
        return self.partner.id

    @property
    def headers(self) -> dict[str, str]:
        return auth(self.api_key)


def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


def api_key(role: str) -> str:
    return keys.issue_key(role)[1]


def partner(webhook_url: str = UNREACHABLE_URL, name: str | None = None) -> PartnerAccount:
    row, secret = partners.create_partner(name or f"Partner {next(_serial)}", webhook_url)
    return PartnerAccount(row, keys.issue_key(keys.PARTNER, row)[1], secret)


def product(owner: PartnerAccount | partners.Partner, **overrides: Any) -> catalogue.Product:
    partner_id = owner.id
    fields = {
        "name": f"Fibre {next(_serial)}",
        "description": "Full-fibre broadband.",
        "enabled": True,
        "meta": {"speed_mbps": "500"},
        "product_type": "utilities_broadband",
    }
    fields.update(overrides)
    return catalogue.create_product(partner_id, fields)


def price(of: catalogue.Product, **overrides: Any) -> catalogue.Price:
    fields = {"name": "Monthly payment", "currency": "GBP", "amount": 3999}
    fields.update(overrides)
    return catalogue.create_price(of, fields)


def user(**overrides: Any) -> users.EndUser:
    fields = {
        "first_name": "Lisa",
        "last_name": "Nichols",
        "email": f"lisa{next(_serial)}@example.com",
        "address_line1": "1 Example Street",
        "postcode": "N1 9GU",
    }
    fields.update(overrides)
    return users.create_user(fields)


def order(
    at: catalogue.Price | None = None,
    by: users.EndUser | None = None,
    status: str = orders.PENDING,
    window_seconds: float = 60,
    **overrides: Any,
) -> orders.Order:
    """An order written straight to the database: no webhook is sent for it."""
    at = at or price(product(partner()))
    by = by or user()
    row = orders.new_order(at, by.id, overrides.pop("input", {"first_name": "Lisa"}), window_seconds)
    row.save(force_insert=True)
    if status != orders.PENDING or overrides:
        orders.Order.update(status=status, **overrides).where(orders.Order.id == row.id).execute()
        row = orders.get_order(row.id)
    return row


def expired(seconds_ago: float = 1) -> dict[str, Any]:
    """Overrides for ``order()`` that place its window in the past."""
    ended = utcnow() - timedelta(seconds=seconds_ago)
    return {"window_started_at": ended - timedelta(seconds=60), "window_ends_at": ended}


def buyer(uuid: str | None = None, pin: str | None = "1234", confirmed: bool = False) -> buyers.Buyer:
    row = buyers.create_buyer(uuid or f"marketplace:buyer-{next(_serial)}", pin)
    if confirmed:
        buyers.Buyer.update(pin_confirmed=True).where(buyers.Buyer.id == row.id).execute()
    return buyers.get_buyer(row.id)


def seller(uuid: str | None = None) -> sellers.Seller:
    return sellers.create_seller(uuid or f"marketplace:seller-{next(_serial)}")


def seller_product(of: sellers.Seller | None = None) -> sellers.SellerProduct:
    return sellers.create_product(of or seller(), f"app-{next(_serial)}")


def transaction(for_order: orders.Order | None = None, **overrides: Any) -> transactions.Transaction:
    """A transaction written straight to the database: ``for_order``'s, as placing it opens, or a
    GBP 39.99 payment through Bango for a new seller's product."""
    if for_order is not None:
        row = transactions.open_for_order(for_order, for_order.price)
    else:
        fields = {
            "amount": 3999,
            "currency": "GBP",
            "provider": transactions.PROVIDER_BANGO,
            "seller_product": seller_product(),
        }
        row = transactions.Transaction.create(**fields)
    if overrides:
        transactions.Transaction.update(**overrides).where(transactions.Transaction.id == row.id).execute()
    return transactions.get_transaction(row.id)


def delivery(
    to: PartnerAccount,
    state: str = deliveries.PENDING,
    attempts: tuple[int | None, ...] = (),
    for_order: orders.Order | None = None,
    **overrides: Any,
) -> deliveries.Delivery:
    """A webhook row in ``state`` with one logged attempt per status code (None: no response); no
    message is sent for it."""
    row = deliveries.create_delivery(
        to.id, orders.EVENT_CREATED, {"id": for_order.id if for_order else "po_1"}, for_order and for_order.id
    )
    deliveries.Delivery.update(state=state, attempt_count=len(attempts), **overrides).where(
        deliveries.Delivery.id == row.id
    ).execute()
    for status_code in attempts:
        deliveries.Attempt.create(
            delivery=row,
            url=to.partner.webhook_url,
            status_code=status_code,
            error=None if status_code else "connection refused",
            duration_ms=120,
        )
    return deliveries.get_delivery(row.id)
