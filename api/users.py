"""End users: the marketplace registers them; a partner reads the users of its own orders."""

from __future__ import annotations

from flask import Blueprint

from api.auth import allow, current_principal
from api.idempotency import idempotent
from api.openapi import documented
from api.responses import UserOut
from api.schemas import UserCreate
from api.validation import parse_body
from models import orders, users
from models.base import isoformat
from models.db import db
from models.keys import MARKETPLACE, OPERATOR, PARTNER

bp = Blueprint("users", __name__)

DETAIL_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "postcode",
    "country",
)


def user_json(user: users.EndUser) -> dict:
    document: dict[str, str | None] = {"id": user.id}
    document.update({name: getattr(user, name) for name in DETAIL_FIELDS})
    document["date_of_birth"] = user.date_of_birth.isoformat() if user.date_of_birth else None
    document["created_at"] = isoformat(user.created_at)
    return document


@bp.post("/users")
@documented("Register an end user", body=UserCreate, responses={201: UserOut})
@allow(OPERATOR, MARKETPLACE)
@idempotent
def create_user():
    body = parse_body(UserCreate)
    with db.atomic():
        user = users.create_user(body.model_dump())
    return user_json(user), 201


@bp.get("/users/<tpp_user_id>")
@documented("Get an end user", responses={200: UserOut})
@allow(OPERATOR, MARKETPLACE, PARTNER)
def get_user(tpp_user_id: str):
    scope = current_principal().partner_scope
    if scope:
        return user_json(orders.customer_of(scope, tpp_user_id))
    return user_json(users.get_user(tpp_user_id))
