"""Sellers of the generic payments API and the products they sell.

Every Courier partner is also a seller (uuid ``courier:<partner id>``) and every Courier product a
seller product, so that an order's transaction can point at them. They are made the first time they
are needed, which also covers partners and products older than the payments API. Other sellers, and
their products, are created through the API.
"""

from __future__ import annotations

import uuid as uuid_module

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField

from models.base import BaseModel, unique, utcnow
from models.catalogue import Product
from models.errors import Conflict, InvalidInput, NotFound
from models.partners import Partner

COURIER_PREFIX = "courier:"


class Seller(BaseModel):
    id = AutoField()
    uuid = CharField(max_length=255, unique=True)
    # Set for the seller that stands for a Courier partner.
    partner = ForeignKeyField(Partner, null=True, unique=True, backref="sellers")
    partner_id: str | None
    created_at = DateTimeField(default=utcnow)


class SellerProduct(BaseModel):
    id = AutoField()
    seller = ForeignKeyField(Seller, backref="products", index=False)  # led by the unique index below
    seller_id: int
    external_id = CharField(max_length=255)  # the seller's own id for it: a prod_… for Courier's
    public_id = CharField(max_length=255, unique=True, default=lambda: str(uuid_module.uuid4()))
    # Set for the seller product that stands for a Courier product.
    product = ForeignKeyField(Product, null=True, unique=True, backref="seller_products")
    product_id: str | None
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "seller_product"
        indexes = ((("seller", "external_id"), True),)


def create_seller(uuid: str) -> Seller:
    if uuid.startswith(COURIER_PREFIX):
        raise InvalidInput(
            f"Seller uuids starting {COURIER_PREFIX!r} stand for Courier's partners and are made by Courier.",
            fields={"uuid": f"may not start with {COURIER_PREFIX!r}"},
        )
    with unique("uuid", f"A seller with uuid {uuid!r} already exists."):
        return Seller.create(uuid=uuid)


def get_seller(seller_id: int, *, field: str | None = None) -> Seller:
    """The seller; ``field`` names the request field that referred to it, if any."""
    seller = Seller.get_or_none(Seller.id == seller_id)
    if seller is None:
        raise NotFound(f"No seller {seller_id}.", fields={field: "does not exist"} if field else None)
    return seller


def seller_of_partner(partner_id: str) -> Seller:
    """The partner's seller, made on first use. Two requests making it at once agree on one row."""
    Seller.insert(
        uuid=COURIER_PREFIX + partner_id, partner=partner_id, created_at=utcnow()
    ).on_conflict_ignore().execute()
    return Seller.get(Seller.partner == partner_id)


def create_product(seller: Seller, external_id: str) -> SellerProduct:
    if seller.partner_id is not None:
        raise Conflict(
            "This seller is a Courier partner: its products are its Courier catalogue.",
            fields={"seller": "is a Courier partner"},
            code="courier_seller",
        )
    with unique("external_id", f"Seller {seller.id} already has a product {external_id!r}."):
        return SellerProduct.create(seller=seller, external_id=external_id)


def get_product(product_id: int, *, field: str | None = None) -> SellerProduct:
    """The seller product; ``field`` names the request field that referred to it, if any."""
    product = SellerProduct.get_or_none(SellerProduct.id == product_id)
    if product is None:
        raise NotFound(
            f"No seller product {product_id}.", fields={field: "does not exist"} if field else None
        )
    return product


def product_of(product: Product) -> SellerProduct:
    """The seller product standing for a Courier product, made (with its seller) on first use.

    Looked up first: every order needs it, and after its first order it exists.
    """
    existing = SellerProduct.get_or_none(SellerProduct.product == product.id)
    if existing is not None:
        return existing
    seller = seller_of_partner(product.partner_id)
    SellerProduct.insert(
        seller=seller.id,
        external_id=product.id,
        public_id=str(uuid_module.uuid4()),
        product=product.id,
        created_at=utcnow(),
    ).on_conflict_ignore().execute()
    return SellerProduct.get(SellerProduct.product == product.id)
