"""Buyers: ``/generic/buyer/``. No answer carries a PIN or its hash: ``pin`` and ``new_pin`` only say
whether one is set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, current_app

from api.auth import allow
from api.generic.resources import accepted, listing, require_version, uri
from api.generic.responses import BuyerList, BuyerOut
from api.generic.schemas import BuyerCreate, BuyerQuery, BuyerUpdate, NoQuery
from api.idempotency import idempotent
from api.openapi import documented
from api.responses import ErrorOut
from api.validation import parse_body, read_query
from models import buyers
from models.buyers import Buyer
from models.db import db
from models.keys import MARKETPLACE, OPERATOR

bp = Blueprint("buyers", __name__)


def lockout_seconds() -> float:
    return current_app.config["SETTINGS"].pin_lockout_seconds


def buyer_json(buyer: Buyer) -> dict[str, Any]:
    lockout = lockout_seconds()
    return {
        "paypal": None,
        "uuid": buyer.uuid,
        "resource_uri": uri("buyer", buyer.id),
        "resource_pk": buyer.id,
        "pin": buyer.pin_hash is not None,
        "pin_confirmed": buyer.pin_confirmed,
        "new_pin": buyer.new_pin_hash is not None,
        "active": buyer.active,
        "needs_pin_reset": buyer.needs_pin_reset,
        "pin_failures": buyer.failures(lockout),
        "pin_locked_out": buyer.is_locked(lockout),
    }


def _documents(rows: Sequence[Buyer]) -> list[dict[str, Any]]:
    return [buyer_json(buyer) for buyer in rows]


@bp.post("/buyer/")
@documented("Create a buyer", body=BuyerCreate, responses={201: BuyerOut, 409: ErrorOut})
@allow(OPERATOR, MARKETPLACE)
@idempotent
def create_buyer():
    # Under an Idempotency-Key the PIN is hashed inside the key's transaction, which on SQLite holds the
    # write lock for that tenth of a second; without one it is hashed before anything is written.
    body = parse_body(BuyerCreate)
    return buyer_json(buyers.create_buyer(body.uuid, body.pin)), 201


@bp.get("/buyer/")
@documented("List buyers, newest first", query=BuyerQuery, responses={200: BuyerList, 304: None})
@allow(OPERATOR, MARKETPLACE)
def list_buyers():
    params = read_query(BuyerQuery)
    query = Buyer.select()
    if params.uuid is not None:
        query = query.where(Buyer.uuid == params.uuid)
    if params.active is not None:
        query = query.where(Buyer.active == (params.active == "true"))
    return listing(query.order_by(Buyer.id.desc()), params, _documents)


@bp.get("/buyer/<int:buyer_id>/")
@documented("Get a buyer", query=NoQuery, responses={200: BuyerOut, 304: None})
@allow(OPERATOR, MARKETPLACE)
def get_buyer(buyer_id: int):
    read_query(NoQuery)
    return buyer_json(buyers.get_buyer(buyer_id))


@bp.patch("/buyer/<int:buyer_id>/")
@documented(
    "Change a buyer: active, a first PIN, or the reset flow",
    body=BuyerUpdate,
    responses={202: None, 409: ErrorOut, 412: ErrorOut},
)
@allow(OPERATOR, MARKETPLACE)
def update_buyer(buyer_id: int):
    """Returns nothing when it worked (Solitude's 202), as the document says."""
    with db.atomic():
        buyer = buyers.get_buyer(buyer_id, lock=True)
        require_version(buyer_json(buyer))
        buyers.update_buyer(buyer, parse_body(BuyerUpdate).model_dump(exclude_unset=True))
    return accepted()
