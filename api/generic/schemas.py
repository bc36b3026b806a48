"""Request bodies and query strings of the generic API, validated by pydantic as Courier's others are
(api/schemas.py), and described by the same models in the OpenAPI document.

Fields a resource shows but a client may not write are declared read-only, so that sending one is a
400 that says so, rather than "not a known field". Where a validator reads a value its type does not
say (a URI that becomes an id, an amount in a string), the field states its JSON Schema outright.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, NoReturn

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from api.generic.resources import URI_PATTERN, pk_from_uri
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from api.schemas import Body, Currency, Query
from api.validation import ASCII_INTEGER, MAX_INTEGER_ID
from models import buyers, transactions

_AMOUNT = re.compile(r"[0-9]{1,15}(\.[0-9]{1,4})?")


def _read_only(value: object) -> NoReturn:
    raise ValueError("is read-only")


def _unchangeable(value: object) -> NoReturn:
    raise ValueError("cannot be changed: only status, notes and uid_pay can")


@dataclass(frozen=True, eq=False)
class OneOf:
    """``Annotated[int, OneOf(STATUSES)]``: one of the numbers ``choices`` names. A refusal lists each with
    its name; the JSON Schema lists them as its enum."""

    choices: Mapping[int, str]

    def check(self, value: int) -> int:
        if value not in self.choices:
            named = ", ".join(f"{number} ({label})" for number, label in self.choices.items())
            raise ValueError(f"must be one of {named}")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), "enum": list(self.choices)}


def _amount(value: object) -> Decimal:
    # A string, as the document shows amounts: a JSON number would arrive as a binary float.
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value) or Decimal(value) == 0:
        raise ValueError('must be a positive decimal amount in a string, such as "0.62"')
    return Decimal(value)


def _uri_schema(kind: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{URI_PATTERN.format(kind=kind)}$",
            "examples": [f"/generic/{kind}/12/"],
        }
    )


def _digits(value: object) -> object:
    """A number in a query string is ASCII digits and nothing else."""
    if isinstance(value, str) and not ASCII_INTEGER.fullmatch(value):
        raise ValueError("must be a non-negative integer")
    return value


Uuid = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Pin = Annotated[
    str,
    AfterValidator(buyers.check_pin_format),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{4}$", "description": "Four digits."}),
]
Text255 = Annotated[str, StringConstraints(max_length=255)]
Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{_AMOUNT.pattern}$",
            "description": "A positive decimal amount in major units, in a string; no more decimal "
            "places than the currency has.",
            "examples": ["39.99"],
        }
    ),
]
Status = Annotated[int, OneOf(transactions.STATUSES)]
Provider = Annotated[int, OneOf(transactions.PROVIDERS)]
Type = Annotated[int, OneOf(transactions.TYPES)]
# References to other resources, by URI; validated into their ids.
BuyerUri = Annotated[int, BeforeValidator(pk_from_uri("buyer")), _uri_schema("buyer")]
SellerUri = Annotated[int, BeforeValidator(pk_from_uri("seller")), _uri_schema("seller")]
ProductUri = Annotated[int, BeforeValidator(pk_from_uri("product")), _uri_schema("product")]
TransactionUri = Annotated[int, BeforeValidator(pk_from_uri("transaction")), _uri_schema("transaction")]

# Fields a client may not send: any value, even null, is refused with the reason.
ReadOnly = Annotated[
    object,
    BeforeValidator(_read_only),
    WithJsonSchema({"not": {}, "readOnly": True, "description": "Read-only: sending it is refused."}),
]
Unchangeable = Annotated[
    object,
    BeforeValidator(_unchangeable),
    WithJsonSchema({"not": {}, "readOnly": True, "description": "Set when created; sending it is refused."}),
]


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


class SellerProductCreate(Body):
    seller: SellerUri
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]


class TransactionCreate(Body):
    uuid: Uuid | None = None
    amount: Amount
    currency: Currency
    provider: Provider
    seller_product: ProductUri
    buyer: BuyerUri | None = None
    related: TransactionUri | None = None
    status: Status = transactions.PENDING
    type: Type = transactions.PAYMENT
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


# Query strings. A number is ASCII digits alone, and one the databases cannot hold is refused rather
# than searched for. The digit check comes last in each type, so that it runs first and the bounds before
# it still appear in the JSON Schema.
_DIGITS = BeforeValidator(_digits)
Number = Annotated[int, Field(ge=0, le=MAX_INTEGER_ID), _DIGITS]


class NoQuery(Query):
    """A resource's own address takes no query parameters: any is refused, as a typo would be."""


class ListQuery(Query):
    """Solitude's paging: ``limit`` rows from ``offset``, newest first."""

    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT), _DIGITS] = Field(
        DEFAULT_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}."
    )
    offset: Number = Field(0, description="How many rows to skip.")


class BuyerQuery(ListQuery):
    uuid: str | None = None
    active: Literal["true", "false"] | None = None


class SellerQuery(ListQuery):
    uuid: str | None = None


class SellerProductQuery(ListQuery):
    seller: Number | None = Field(None, description="The seller's resource_pk.")
    external_id: str | None = None


class TransactionQuery(ListQuery):
    uuid: str | None = None
    provider: Annotated[int, OneOf(transactions.PROVIDERS), _DIGITS] | None = None
    status: Annotated[int, OneOf(transactions.STATUSES), _DIGITS] | None = None
    seller: Number | None = Field(None, description="The seller's resource_pk.")
