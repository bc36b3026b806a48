"""What the generic API answers, as pydantic models: Solitude's documents, its list envelope and the PIN
endpoints' own answers, for the OpenAPI document.

The views build their JSON with the ``*_json`` functions beside them; these models describe that JSON
and forbid anything they do not name (``api.responses.Out``), and the tests and schemathesis check real
responses against them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, RootModel

from api.responses import ErrorOut, Out
from models import orders, transactions

# A reference to another resource, as Solitude gave them: "/generic/product/449/".
Uri = Annotated[str, Field(pattern=r"^/generic/[a-z]+/[0-9]+/$")]


def _named(choices: dict[int, str]) -> str:
    return ", ".join(f"{number} {label}" for number, label in choices.items())


class BuyerOut(Out):
    """A buyer. Its PINs are never shown: ``pin`` and ``new_pin`` only say whether one is set."""

    paypal: None
    uuid: str
    resource_uri: Uri
    resource_pk: int
    pin: bool
    pin_confirmed: bool
    new_pin: bool = Field(description="A new PIN waits for reset_confirm_pin.")
    active: bool
    needs_pin_reset: bool
    pin_failures: int = Field(description="Wrong PINs in a row.")
    pin_locked_out: bool


class SellerOut(Out):
    paypal: None
    bluevia: None
    uuid: str
    resource_uri: Uri
    resource_pk: int
    resource_key: int = Field(description="The same as resource_pk.")


class SellerProductOut(Out):
    seller: Uri
    external_id: str = Field(description="The seller's own id for it; a Courier product's id.")
    public_id: str
    resource_uri: Uri
    resource_pk: int


class TransactionOut(Out):
    amount: str = Field(description="A decimal amount in major units, as many places as the currency has.")
    buyer: Uri | None
    created: datetime
    currency: str
    notes: str
    provider: Literal[tuple(transactions.PROVIDERS)] = Field(  # type: ignore[valid-type]
        description=_named(transactions.PROVIDERS)
    )
    related: Uri | None = Field(description="The transaction this one refunds or reverses.")
    relations: list[Uri] = Field(description="The refunds and reversals of this transaction.")
    resource_pk: int
    resource_uri: Uri
    seller_product: Uri
    status: Literal[tuple(transactions.STATUSES)] = Field(  # type: ignore[valid-type]
        description=_named(transactions.STATUSES)
    )
    type: Literal[tuple(transactions.TYPES)] = Field(  # type: ignore[valid-type]
        description=_named(transactions.TYPES)
    )
    uid_pay: str | None
    uid_support: str | None
    uuid: str


class ConflictOut(Out):
    """A transaction reconciliation may not move to what its order says, left for an operator."""

    resource_pk: int
    resource_uri: Uri
    transaction: Uri
    transaction_status: Literal[tuple(transactions.STATUSES)] = Field(  # type: ignore[valid-type]
        description=_named(transactions.STATUSES)
    )
    order: str
    order_status: Literal[orders.STATUSES]  # type: ignore[valid-type]
    reason: str
    detected: datetime


class ListMeta(Out):
    limit: int
    offset: int
    total_count: int
    next: str | None = Field(description="The next page's address, filters kept; null on the last.")
    previous: str | None = Field(description="The previous page's address; null on the first.")


class BuyerList(Out):
    meta: ListMeta
    objects: list[BuyerOut]


class SellerList(Out):
    meta: ListMeta
    objects: list[SellerOut]


class SellerProductList(Out):
    meta: ListMeta
    objects: list[SellerProductOut]


class TransactionList(Out):
    meta: ListMeta
    objects: list[TransactionOut]


class ConflictList(Out):
    meta: ListMeta
    objects: list[ConflictOut]


# The PIN endpoints answer in Solitude's shapes, refusals included.
Errors = dict[str, list[str]]


class PinConfirmed(Out):
    confirmed: bool = Field(description="False when the PIN is not the one set.")


class PinConfirmRefused(Out):
    confirmed: Literal[False]
    errors: Errors = Field(description='Each field and what is wrong: {"uuid": ["Uuid does not exist."]}.')


class PinVerified(Out):
    valid: bool
    locked: bool = Field(description="Locked out after too many wrong PINs: even the right one is refused.")


class PinVerifyRefused(Out):
    valid: Literal[False]
    locked: Literal[False]
    errors: Errors = Field(description='Each field and what is wrong: {"uuid": ["Uuid does not exist."]}.')


class PinConfirmMalformed(RootModel[PinConfirmRefused | ErrorOut]):
    """The endpoint's refusal; or Courier's envelope, when the request is refused before it reaches the
    endpoint (a NUL character in the query string)."""


class PinVerifyMalformed(RootModel[PinVerifyRefused | ErrorOut]):
    """The endpoint's refusal; or Courier's envelope, when the request is refused before it reaches the
    endpoint (a NUL character in the query string)."""
