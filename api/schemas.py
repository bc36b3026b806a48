"""Request bodies and query strings, validated by pydantic: unknown fields refused, errors per field.

These classes are the single statement of what each request accepts: the API validates with them
and the OpenAPI document is generated from them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PastDate,
    StringConstraints,
    field_validator,
)

from models.catalogue import PRODUCT_TYPES
from models.currencies import is_currency
from models.deliveries import STATES
from models.orders import ANSWERS, MAX_FIELDS, STATUSES


def holds_nul(value: object) -> bool:
    """Whether a NUL character hides anywhere in ``value``: PostgreSQL cannot store one in text."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    return False


class Input(BaseModel):
    """What a client sends: a NUL character in any field is refused before it can reach the database."""

    @field_validator("*")
    @classmethod
    def no_nul_characters(cls, value: object) -> object:
        if holds_nul(value):
            raise ValueError("may not contain NUL characters")
        return value


class Body(Input):
    model_config = ConfigDict(extra="forbid", strict=True)


def _product_type(value: str) -> str:
    if value not in PRODUCT_TYPES:
        raise ValueError(
            "must be one of the integration guide's product types, such as 'utilities_broadband'"
        )
    return value


def _currency(value: str) -> str:
    code = value.upper()
    if not is_currency(code):
        raise ValueError("must be an ISO 4217 currency code in use, such as 'GBP'")
    return code


def _answer(value: str) -> str:
    if value not in ANSWERS:
        raise ValueError("must be one of 'Succesful', 'Need_more_info' or 'Failed'")
    return ANSWERS[value]


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Value = Annotated[str, StringConstraints(max_length=5000)]
# A map of string to string, as the guide's ``meta``, ``input`` and ``output`` are.
StringMap = Annotated[dict[Key, Value], Field(max_length=MAX_FIELDS)]
ProductType = Annotated[
    str, AfterValidator(_product_type), Field(json_schema_extra={"enum": list(PRODUCT_TYPES)})
]
Currency = Annotated[str, StringConstraints(min_length=3, max_length=3), AfterValidator(_currency)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=254, pattern=re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    ),
]


# The guide's example body says ``product_type`` and its list of fields ``product.type``: a partner may
# have followed either. Both are taken (not both at once), and ``product_type`` is what answers say.
PRODUCT_TYPE_NAMES = AliasChoices("product_type", "type")
PRODUCT_TYPE_NOTE = "Also accepted as `type`, the name the guide's list of fields gives it."


class ProductCreate(Body):
    name: Name
    description: Annotated[str, StringConstraints(max_length=5000)]
    enabled: bool = True
    meta: StringMap = Field(default_factory=dict)
    product_type: ProductType = Field(validation_alias=PRODUCT_TYPE_NAMES, description=PRODUCT_TYPE_NOTE)
    # Only an operator names the partner; a partner's products are its own.
    partner_id: Id | None = None


class ProductUpdate(Body):
    # Every field may be left out; none may be null.
    name: Name = None  # type: ignore[assignment]
    description: Annotated[str, StringConstraints(max_length=5000)] = None  # type: ignore[assignment]
    enabled: bool = None  # type: ignore[assignment]
    meta: StringMap = None  # type: ignore[assignment]
    product_type: ProductType = Field(  # type: ignore[assignment]
        default=None, validation_alias=PRODUCT_TYPE_NAMES, description=PRODUCT_TYPE_NOTE
    )


class PriceCreate(Body):
    name: Name
    currency: Currency
    amount: Annotated[int, Field(gt=0, le=10**15, description="In minor units: pennies for GBP.")]


class UserCreate(Body):
    first_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    last_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    email: Email
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    date_of_birth: PastDate | None = None
    address_line1: ShortText | None = None
    address_line2: ShortText | None = None
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    postcode: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None


class OrderCreate(Body):
    prod_id: Id
    pricing_id: Id
    tpp_user_id: Id
    input: StringMap = Field(default_factory=dict)


class OrderAnswer(Body):
    status: Annotated[str, AfterValidator(_answer), Field(json_schema_extra={"enum": list(ANSWERS)})]
    output: StringMap = Field(default_factory=dict)


class OrderInput(Body):
    input: Annotated[dict[Key, Value], Field(min_length=1, max_length=MAX_FIELDS)]


class PartnerCreate(Body):
    name: Name
    webhook_url: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class PartnerUpdate(Body):
    webhook_url: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class BulkRequeue(Body):
    """The deliveries list's filters; with ``dry_run`` only counts what would go."""

    partner_id: Id | None = None
    state: Annotated[str, StringConstraints(max_length=20)] | None = None
    event_type: Annotated[str, StringConstraints(max_length=60)] | None = None
    created_after: Annotated[str, StringConstraints(max_length=40)] | None = None
    created_before: Annotated[str, StringConstraints(max_length=40)] | None = None
    dry_run: bool = False


class Query(Input):
    """A query string. Every value arrives as text, so types are read leniently: ``limit=20`` is 20."""

    model_config = ConfigDict(extra="forbid")


class Page(Query):
    limit: (
        Annotated[int, Field(ge=1, le=100, description="Page size, 1 to 100; 20 when left out.")] | None
    ) = None
    starting_after: (
        Annotated[str, Field(min_length=1, max_length=64, description="The last id of the previous page.")]
        | None
    ) = None


class OrderQuery(Page):
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    prod_id: Id | None = None
    tpp_user_id: Id | None = None


class ProductQuery(Page):
    enabled: Literal["true", "false"] | None = None
    product_type: ProductType | None = None


class DeliveryQuery(Page):
    partner_id: Id | None = None
    state: Literal[STATES] | None = None  # type: ignore[valid-type]
    event_type: Annotated[str, StringConstraints(max_length=60)] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
