"""Sellers and their products: ``/generic/seller/`` and ``/generic/product/``.

Courier's partners and products appear here too (``courier:<partner id>``, with the product's id as the
``external_id``), made the first time an order needs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint

from api.auth import allow
from api.generic.resources import listing, uri
from api.generic.responses import SellerList, SellerOut, SellerProductList, SellerProductOut
from api.generic.schemas import NoQuery, SellerCreate, SellerProductCreate, SellerProductQuery, SellerQuery
from api.idempotency import idempotent
from api.openapi import documented
from api.responses import ErrorOut
from api.validation import parse_body, read_query
from models import sellers
from models.keys import MARKETPLACE, OPERATOR
from models.sellers import Seller, SellerProduct

bp = Blueprint("sellers", __name__)


def seller_json(seller: Seller) -> dict[str, Any]:
    return {
        "paypal": None,
        "bluevia": None,
        "uuid": seller.uuid,
        "resource_uri": uri("seller", seller.id),
        "resource_pk": seller.id,
        "resource_key": seller.id,  # the document shows it beside the URI; it is the same key
    }


def product_json(product: SellerProduct) -> dict[str, Any]:
    return {
        "seller": uri("seller", product.seller_id),
        "external_id": product.external_id,
        "public_id": product.public_id,
        "resource_uri": uri("product", product.id),
        "resource_pk": product.id,
    }


def _sellers(rows: Sequence[Seller]) -> list[dict[str, Any]]:
    return [seller_json(seller) for seller in rows]


def _products(rows: Sequence[SellerProduct]) -> list[dict[str, Any]]:
    return [product_json(product) for product in rows]


@bp.post("/seller/")
@documented("Create a seller", body=SellerCreate, responses={201: SellerOut, 409: ErrorOut})
@allow(OPERATOR, MARKETPLACE)
@idempotent
def create_seller():
    body = parse_body(SellerCreate)
    return seller_json(sellers.create_seller(body.uuid)), 201


@bp.get("/seller/")
@documented("List sellers, newest first", query=SellerQuery, responses={200: SellerList, 304: None})
@allow(OPERATOR, MARKETPLACE)
def list_sellers():
    params = read_query(SellerQuery)
    query = Seller.select()
    if params.uuid is not None:
        query = query.where(Seller.uuid == params.uuid)
    return listing(query.order_by(Seller.id.desc()), params, _sellers)


@bp.get("/seller/<int:seller_id>/")
@documented("Get a seller", query=NoQuery, responses={200: SellerOut, 304: None})
@allow(OPERATOR, MARKETPLACE)
def get_seller(seller_id: int):
    read_query(NoQuery)
    return seller_json(sellers.get_seller(seller_id))


@bp.post("/product/")
@documented(
    "Create a seller's product",
    body=SellerProductCreate,
    responses={201: SellerProductOut, 404: ErrorOut, 409: ErrorOut},
)
@allow(OPERATOR, MARKETPLACE)
@idempotent
def create_product():
    body = parse_body(SellerProductCreate)
    seller = sellers.get_seller(body.seller, field="seller")
    return product_json(sellers.create_product(seller, body.external_id)), 201


@bp.get("/product/")
@documented(
    "List seller products, newest first",
    query=SellerProductQuery,
    responses={200: SellerProductList, 304: None},
)
@allow(OPERATOR, MARKETPLACE)
def list_products():
    params = read_query(SellerProductQuery)
    query = SellerProduct.select()
    if params.seller is not None:
        query = query.where(SellerProduct.seller == params.seller)
    if params.external_id is not None:
        query = query.where(SellerProduct.external_id == params.external_id)
    return listing(query.order_by(SellerProduct.id.desc()), params, _products)


@bp.get("/product/<int:product_id>/")
@documented("Get a seller product", query=NoQuery, responses={200: SellerProductOut, 304: None})
@allow(OPERATOR, MARKETPLACE)
def get_product(product_id: int):
    read_query(NoQuery)
    return product_json(sellers.get_product(product_id))
