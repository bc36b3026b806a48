"""Request bodies of the generic API, validated by pydantic as Courier's others are (api/schemas.py).

Fields a resource shows but a client may not write are declared read-only, so that sending one is a
400 that says so, rather than "not a known field".
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, NoReturn

from pydantic import AfterValidator, BeforeValidator, StringConstraints

from api.generic.resources import pk_from_uri
from api.schemas import Body, Currency
from models import buyers, transactions

_AMOUNT = re.compile(r"[0-9]{1,15}(\.[0-9]{1,4})?")


def _read_only(value: object) -> NoReturn:
    raise ValueError("is read-only")


def _unchangeable(value: object) -> NoReturn:
    raise ValueError("cannot be changed: only status, notes and uid_pay can")


def _one_of(choices: dict[int, str]):
    def check(value: int) -> int:
        if value not in choices:
            raise ValueError("must be one of " + ", ".join(f"{n} ({label})" for n, label in choices.items()))
        return value

    return AfterValidator(check)


def _amount(value: object) -> Decimal:
    # A string, as the document shows amounts: a JSON number would arrive as a binary float.
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value) or Decimal(value) == 0:
        raise ValueError('must be a positive decimal amount in a string, such as "0.62"')
    return Decimal(value)


Uuid = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Pin = Annotated[str, AfterValidator(buyers.check_pin_format)]
Text255 = Annotated[str, StringConstraints(max_length=255)]
Amount = Annotated[Decimal, BeforeValidator(_amount)]
Status = Annotated[int, _one_of(transactions.STATUSES)]
# References to other resources, by URI; validated into their ids.
BuyerUri = Annotated[int, BeforeValidator(pk_from_uri("buyer"))]
SellerUri = Annotated[int, BeforeValidator(pk_from_uri("seller"))]
ProductUri = Annotated[int, BeforeValidator(pk_from_uri("product"))]
TransactionUri = Annotated[int, BeforeValidator(pk_from_uri("transaction"))]

# Fields a client may not send: any value, even null, is refused with the reason.
ReadOnly = Annotated[object, BeforeValidator(_read_only)]
Unchangeable = Annotated[object, BeforeValidator(_unchangeable)]


class BuyerCreate(Body):
    uuid: Uuid
    pin: Pin | None = None


class BuyerUpdate(Body):
    # Every field may be left out; none may be null.
    pin: Pin = None  # type: ignore[assignment]
    new_pin: Pin = None  # type: ignore[assignment]
    needs_pin_reset: bool = None  # type: ignore[assignment]
    active: bool = None  # type: ignore[assignment]
    uuid: ReadOnly = None
    pin_confirmed: ReadOnly = None
    pin_failures: ReadOnly = None
    pin_locked_out: ReadOnly = None
    paypal: ReadOnly = None
    resource_pk: ReadOnly = None
    resource_uri: ReadOnly = None


class PinCheck(Body):
    uuid: Uuid
    pin: Pin


class SellerCreate(Body):
    uuid: Uuid


class ProductCreate(Body):
    seller: SellerUri
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]


class TransactionCreate(Body):
    uuid: Uuid | None = None
    amount: Amount
    currency: Currency
    provider: Annotated[int, _one_of(transactions.PROVIDERS)]
    seller_product: ProductUri
    buyer: BuyerUri | None = None
    related: TransactionUri | None = None
    status: Status = transactions.PENDING
    type: Annotated[int, _one_of(transactions.TYPES)] = transactions.PAYMENT
    uid_pay: Text255 | None = None
    uid_support: Text255 | None = None
    notes: str = ""


class TransactionUpdate(Body):
    status: Status = None  # type: ignore[assignment]
    notes: str = None  # type: ignore[assignment]
    uid_pay: Text255 | None = None
    amount: Unchangeable = None
    buyer: Unchangeable = None
    created: Unchangeable = None
    currency: Unchangeable = None
    provider: Unchangeable = None
    related: Unchangeable = None
    relations: Unchangeable = None
    resource_pk: Unchangeable = None
    resource_uri: Unchangeable = None
    seller_product: Unchangeable = None
    type: Unchangeable = None
    uid_support: Unchangeable = None
    uuid: Unchangeable = None
