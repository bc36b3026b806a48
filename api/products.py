"""Products and their prices: ``/products``, ``/products/{prod_id}``, ``/products/{prod_id}/pricing``."""

from __future__ import annotations

from flask import Blueprint

from api.auth import allow, current_principal
from api.idempotency import idempotent
from api.openapi import documented
from api.pagination import page
from api.responses import PriceList, PriceOut, ProductList, ProductOut
from api.schemas import PriceCreate, ProductCreate, ProductQuery, ProductUpdate
from api.validation import parse_body, parse_flag, parse_query
from models import catalogue, partners
from models.base import isoformat
from models.db import db
from models.errors import InvalidInput
from models.keys import MARKETPLACE, OPERATOR, PARTNER

bp = Blueprint("products", __name__)


def product_json(product: catalogue.Product) -> dict:
    return {
        "id": product.id,
        "name": product.name,
        "description": product.description,
        "enabled": product.enabled,
        "meta": product.meta,
        "product_type": product.product_type,
        "partner_id": product.partner_id,
        "created_at": isoformat(product.created_at),
        "updated_at": isoformat(product.updated_at),
    }


def price_json(price: catalogue.Price) -> dict:
    return {
        "id": price.id,
        "prod_id": price.product_id,
        "name": price.name,
        "currency": price.currency,
        "amount": price.amount,
        "created_at": isoformat(price.created_at),
    }


def _product(prod_id: str) -> catalogue.Product:
    """The product as the caller may see it: a partner sees only its own."""
    return catalogue.get_product(prod_id, partner_id=current_principal().partner_scope)


@bp.post("/products")
@documented("Create a product", body=ProductCreate, responses={201: ProductOut})
@allow(OPERATOR, PARTNER)
@idempotent
def create_product():
    body = parse_body(ProductCreate)
    principal = current_principal()
    fields = body.model_dump(exclude={"partner_id"})
    if principal.role == PARTNER:
        if body.partner_id not in (None, principal.partner_id):
            raise InvalidInput(
                "A partner creates products for itself only.",
                fields={"partner_id": "must be omitted or your own partner id"},
            )
        partner_id = principal.partner_scope or ""
    else:
        if body.partner_id is None:
            raise InvalidInput(
                "An operator must say whose product this is.", fields={"partner_id": "is required"}
            )
        partner_id = partners.get_partner(body.partner_id).id
    with db.atomic():
        product = catalogue.create_product(partner_id, fields)
    return product_json(product), 201


@bp.get("/products")
@documented("List products, newest first", query=ProductQuery, responses={200: ProductList})
@allow(OPERATOR, MARKETPLACE, PARTNER)
def list_products():
    params = parse_query(ProductQuery)
    query = catalogue.Product.select()
    scope = current_principal().partner_scope
    if scope:
        query = query.where(catalogue.Product.partner == scope)
    if "enabled" in params:
        query = query.where(catalogue.Product.enabled == parse_flag("enabled", params["enabled"]))
    if "product_type" in params:
        query = query.where(catalogue.Product.product_type == params["product_type"])
    return page(query, catalogue.Product, params, product_json)


@bp.get("/products/<prod_id>")
@documented("Get a product", responses={200: ProductOut})
@allow(OPERATOR, MARKETPLACE, PARTNER)
def get_product(prod_id: str):
    return product_json(_product(prod_id))


@bp.patch("/products/<prod_id>")
@documented("Change a product", body=ProductUpdate, responses={200: ProductOut})
@allow(OPERATOR, PARTNER)
def update_product(prod_id: str):
    """Change a product; ``{"enabled": false}`` takes it off the marketplace."""
    changes = parse_body(ProductUpdate).model_dump(exclude_unset=True)
    with db.atomic():
        product = catalogue.update_product(_product(prod_id), changes)
    return product_json(product)


@bp.post("/products/<prod_id>/pricing")
@documented("Add a price to a product", body=PriceCreate, responses={201: PriceOut})
@allow(OPERATOR, PARTNER)
@idempotent
def create_price(prod_id: str):
    body = parse_body(PriceCreate)
    with db.atomic():
        price = catalogue.create_price(_product(prod_id), body.model_dump())
    return price_json(price), 201


@bp.get("/products/<prod_id>/pricing")
@documented("List a product's prices", responses={200: PriceList})
@allow(OPERATOR, MARKETPLACE, PARTNER)
def list_prices(prod_id: str):
    prices = catalogue.prices_of(_product(prod_id))
    return {"data": [price_json(price) for price in prices], "has_more": False}


@bp.get("/products/<prod_id>/pricing/<price_id>")
@documented("Get a price", responses={200: PriceOut})
@allow(OPERATOR, MARKETPLACE, PARTNER)
def get_price(prod_id: str, price_id: str):
    return price_json(catalogue.get_price(_product(prod_id), price_id))
