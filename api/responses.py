"""What the API answers, as pydantic models: the response half of the OpenAPI document.

The views build their JSON with the ``*_json`` functions; these models describe that JSON, forbid
anything they do not name, and are checked against real responses by the tests and by schemathesis, so
the document cannot drift from what the API says.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.deliveries import STATES
from models.orders import STATUSES


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Out):
    code: str = Field(description="Stable, for programs: invalid_request, not_found, conflict, …")
    message: str = Field(description="For people: what was wrong and how to fix it.")
    fields: dict[str, str] = Field(description="Each bad field or parameter, and what is wrong with it.")


class ErrorOut(Out):
    """Every refused request, whatever its status."""

    error: ErrorDetail


class ProductOut(Out):
    id: str
    name: str
    description: str
    enabled: bool
    meta: dict[str, str]
    product_type: str
    partner_id: str
    created_at: datetime
    updated_at: datetime


class ProductList(Out):
    data: list[ProductOut]
    has_more: bool


class PriceOut(Out):
    id: str
    prod_id: str
    name: str
    currency: str
    amount: int = Field(description="In minor units: pennies for GBP.")
    created_at: datetime


class PriceList(Out):
    data: list[PriceOut]
    has_more: bool


class UserOut(Out):
    id: str
    first_name: str
    last_name: str
    email: str
    phone: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    postcode: str | None
    country: str | None
    date_of_birth: str | None = Field(description="YYYY-MM-DD")
    created_at: datetime


class ProcessingWindow(Out):
    started_at: datetime
    ends_at: datetime
    expired_at: datetime | None = Field(description="Set when the window closed before an answer.")


class OrderOut(Out):
    """The integration guide's order, with its output, timestamps and processing window."""

    id: str
    status: Literal[STATUSES]  # type: ignore[valid-type]
    input: dict[str, str]
    prod_id: str
    pricing_id: str
    tpp_user_id: str
    output: dict[str, str] | None
    created_at: datetime
    updated_at: datetime
    processing: bool = Field(description="Pending, and the processing window still open.")
    processing_window: ProcessingWindow


class OrderList(Out):
    data: list[OrderOut]
    has_more: bool


class EndpointHealth(Out):
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    last_success_at: datetime | None
    failing_since: datetime | None
    consecutive_failures: int


class PartnerOut(Out):
    id: str
    name: str
    webhook_url: str
    created_at: datetime
    endpoint: EndpointHealth


class PartnerList(Out):
    data: list[PartnerOut]
    has_more: bool


class PartnerCreated(PartnerOut):
    api_key: str = Field(description="The partner's API key, shown this once.")
    webhook_secret: str = Field(description="The webhooks' signing secret (whsec_…), shown this once.")


class EndpointEnabled(PartnerOut):
    released_deliveries: int = Field(description="Held deliveries sent again now.")


class SecretRotated(Out):
    webhook_secret: str
    previous_secret_expires_at: datetime | None


class DeliveryOut(Out):
    id: int
    webhook_id: str = Field(description="The webhook-id header, the same on every attempt.")
    partner_id: str
    order_id: str | None
    event_type: str
    state: Literal[STATES]  # type: ignore[valid-type]
    attempt_count: int
    next_attempt_at: datetime | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None


class AttemptOut(Out):
    id: int
    attempted_at: datetime
    url: str
    status_code: int | None
    error: str | None = Field(description="The network error, when no response came back.")
    duration_ms: int
    response_excerpt: str | None
    trigger: Literal["scheduled", "manual"]


class DeliveryDetail(DeliveryOut):
    payload: Any = Field(description="The body sent, exactly.")
    attempts: list[AttemptOut]


class DeliveryList(Out):
    data: list[DeliveryOut]
    has_more: bool


class Requeued(Out):
    requeued: bool = Field(description="False when the delivery was already waiting for an attempt.")
    delivery: DeliveryOut


class BulkRequeued(Out):
    dry_run: bool
    matched: int
    requeued: int


class Liveness(Out):
    status: Literal["ok"]


class Check(Out):
    ok: bool
    detail: str
    ms: float


class Readiness(Out):
    status: Literal["ok", "unavailable"]
    checks: dict[str, Check]
