"""The catalogue: a partner's products and the prices each is sold at (one product, many prices)."""

from __future__ import annotations

from typing import Any

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    TextField,
)

from models.base import BaseModel, JSONField, new_id, utcnow
from models.errors import NotFound
from models.partners import Partner

# The 27 categories of the integration guide, spelled as it spells them.
PRODUCT_TYPES = (
    "insurance_car_insurance",
    "insurance_home_insurance",
    "insurance_travel_insurance",
    "insurance_health_insurance",
    "insurance_pet_insurance",
    "insurance_gadget_insurance",
    "investments",
    "lending",
    "insurance",
    "rewards",
    "utilities",
    "insurance_life_insurance",
    "insurance_business_insurance",
    "investments_investment_account",
    "investments_stocks_and_shares_isa",
    "investments_sipp",
    "investments_crowdfunding",
    "investments_current_accounts",
    "investments_savings_accounts",
    "investments_cash_isas",
    "lending_mortgages",
    "lending_loans",
    "lending_credit_cards",
    "utilities_energy",
    "utilities_broadband",
    "utilities_tv",
    "utilities_mobile_phones",
)


class Product(BaseModel):
    id = CharField(primary_key=True, default=lambda: new_id("prod"))
    partner = ForeignKeyField(Partner, backref="products", on_delete="CASCADE")
    partner_id: str
    name = CharField(max_length=200)
    description = TextField()
    enabled = BooleanField(default=True)
    meta = JSONField(default=dict)
    product_type = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow, index=True)
    updated_at = DateTimeField(default=utcnow)


class Price(BaseModel):
    id = CharField(primary_key=True, default=lambda: new_id("price"))
    product = ForeignKeyField(Product, backref="prices", on_delete="CASCADE")
    product_id: str
    name = CharField(max_length=200)
    currency = CharField(max_length=3)
    amount = BigIntegerField()  # minor units: pennies for GBP
    created_at = DateTimeField(default=utcnow)


def create_product(partner_id: str, fields: dict[str, Any]) -> Product:
    return Product.create(partner=partner_id, **fields)


def update_product(product: Product, changes: dict[str, Any]) -> Product:
    for name, value in changes.items():
        setattr(product, name, value)
    product.updated_at = utcnow()
    product.save()
    return product


def get_product(product_id: str, *, partner_id: str | None = None) -> Product:
    """The product, seen by ``partner_id`` when given: another partner's product does not exist."""
    query = Product.select().where(Product.id == product_id)
    if partner_id is not None:
        query = query.where(Product.partner == partner_id)
    product = query.first()
    if product is None:
        raise NotFound(f"No product {product_id}.")
    return product


def create_price(product: Product, fields: dict[str, Any]) -> Price:
    return Price.create(product=product, **fields)


def prices_of(product: Product) -> list[Price]:
    return list(Price.select().where(Price.product == product).order_by(Price.created_at, Price.id))


def prices_by_product(product_ids: list[str]) -> dict[str, list[Price]]:
    """The prices of each product, in the order they were created, in one query."""
    prices: dict[str, list[Price]] = {product_id: [] for product_id in product_ids}
    query = Price.select().where(Price.product.in_(product_ids)).order_by(Price.created_at, Price.id)
    for price in query:
        prices[price.product_id].append(price)
    return prices


def get_price(product: Product, price_id: str) -> Price:
    price = Price.get_or_none((Price.id == price_id) & (Price.product == product))
    if price is None:
        raise NotFound(f"No price {price_id} for product {product.id}.")
    return price
