"""Placing an order: the API's busiest write, in two round trips to the database.

An order is written with its payment transaction and its webhook, all or none. What they need (the
price and its product, whether the customer exists, the payments API's buyer and seller product that
stand for the customer and the product) is read in one query, and the three rows are written in one
statement (``insert_together``). Built with the query builder, one query at a time, the same took nine
round trips, and building the queries cost the API more CPU than sending them (``scripts/bench/api.py``
measures it).

A customer's first order makes their buyer, and a product's first order its seller product: only
then does placing an order take a transaction of several statements.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

from models import buyers, sellers
from models.base import insert_together
from models.catalogue import Price, Product
from models.db import db, execute_prepared
from models.deliveries import Delivery, new_delivery
from models.errors import Conflict, NotFound
from models.orders import EVENT_CREATED, Order, new_order, order_document
from models.transactions import buyer_uuid, new_payment

# One row when the product exists; the price's columns are null when it is not one of the product's.
LOOKUP = """
SELECT "product"."partner_id", "product"."enabled", "price"."id", "price"."amount", "price"."currency",
    EXISTS (SELECT 1 FROM "end_user" WHERE "end_user"."id" = ?),
    (SELECT "buyer"."id" FROM "buyer" WHERE "buyer"."uuid" = ?),
    (SELECT "seller_product"."id" FROM "seller_product" WHERE "seller_product"."product_id" = "product"."id")
FROM "product" LEFT JOIN "price" ON "price"."product_id" = "product"."id" AND "price"."id" = ?
WHERE "product"."id" = ?
"""
LOOKUP_TYPES = ("text", "text", "text", "text")


@dataclass(frozen=True)
class Placed:
    order: Order
    webhook: Delivery


def place_order(
    product_id: str, price_id: str, user_id: str, order_input: dict[str, str], window_seconds: float
) -> Placed:
    """A Pending order for ``user_id`` at the product's price, its payment transaction, and the
    ``order.created`` webhook to its partner, due now. Raises NotFound or Conflict, writing nothing,
    when the product, the price or the user does not exist, or the product is disabled."""
    found = execute_prepared(
        "courier_order_lookup", LOOKUP, LOOKUP_TYPES, (user_id, buyer_uuid(user_id), price_id, product_id)
    ).fetchone()
    if found is None:
        raise NotFound(f"No product {product_id}.", fields={"prod_id": "does not exist"})
    partner_id, enabled, found_price_id, amount, currency, user_exists, buyer_id, seller_product_id = found
    if found_price_id is None:
        raise NotFound(
            f"No price {price_id} for product {product_id}.",
            fields={"pricing_id": "is not a price of this product"},
        )
    if not enabled:
        raise Conflict(
            f"Product {product_id} is disabled and cannot be ordered.",
            fields={"prod_id": "is disabled"},
            code="product_disabled",
        )
    if not user_exists:
        raise NotFound(f"No user {user_id}.", fields={"tpp_user_id": "does not exist"})
    product = Product(id=product_id, partner=partner_id)
    price = Price(id=price_id, product=product, amount=amount, currency=currency)
    first_order = buyer_id is None or seller_product_id is None
    with db.atomic() if first_order else nullcontext():
        if buyer_id is None:
            buyer_id = buyers.buyer_for(buyer_uuid(user_id)).id
        if seller_product_id is None:
            seller_product_id = sellers.product_of(product).id
        order = new_order(price, user_id, order_input, window_seconds)
        payment = new_payment(order, price, buyer_id, seller_product_id)
        webhook = new_delivery(
            partner_id, EVENT_CREATED, {**order_document(order), "event": EVENT_CREATED}, order.id
        )
        insert_together(order, payment, webhook)
    return Placed(order, webhook)
