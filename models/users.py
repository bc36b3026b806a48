"""End users: the people who place orders on the marketplace (an order's ``tpp_user_id``)."""

from __future__ import annotations

from typing import Any

from peewee import CharField, DateField, DateTimeField

from models.base import BaseModel, new_id, utcnow
from models.errors import NotFound


class EndUser(BaseModel):
    id = CharField(primary_key=True, default=lambda: new_id("tus"))
    first_name = CharField(max_length=100)
    last_name = CharField(max_length=100)
    email = CharField(max_length=254)
    phone = CharField(max_length=40, null=True)
    date_of_birth = DateField(null=True)
    address_line1 = CharField(max_length=200, null=True)
    address_line2 = CharField(max_length=200, null=True)
    city = CharField(max_length=100, null=True)
    postcode = CharField(max_length=20, null=True)
    country = CharField(max_length=2, null=True)  # ISO 3166-1 alpha-2
    created_at = DateTimeField(default=utcnow)


def create_user(fields: dict[str, Any]) -> EndUser:
    return EndUser.create(**fields)


def get_user(user_id: str) -> EndUser:
    user = EndUser.get_or_none(EndUser.id == user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user
