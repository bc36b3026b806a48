"""Partners and their endpoints: health, enabling a disabled endpoint, moving it, rotating its secret.

GET   /partners                          operators: every partner with its endpoint's health
POST  /partners                          operators: a new partner (its key and secret shown once)
GET   /partners/{id}                     operators, and a partner itself
PATCH /partners/{id}                     move the endpoint: {"webhook_url": ...}
POST  /partners/{id}/endpoint/enable     operators: deliver again, held deliveries first
POST  /partners/{id}/secret/rotate       a new secret; the old one keeps signing for 24 hours
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.auth import allow, current_principal
from api.idempotency import idempotent
from api.openapi import documented
from api.pagination import page
from api.responses import EndpointEnabled, PartnerCreated, PartnerList, PartnerOut, SecretRotated
from api.schemas import Page, PartnerCreate, PartnerUpdate
from api.validation import parse_body, parse_query
from models import keys, partners, redelivery
from models.base import isoformat
from models.db import db
from models.errors import NotFound
from models.keys import OPERATOR, PARTNER
from workers.delivery import send_now

bp = Blueprint("partners", __name__)


def partner_json(partner: partners.Partner) -> dict[str, Any]:
    return {
        "id": partner.id,
        "name": partner.name,
        "webhook_url": partner.webhook_url,
        "created_at": isoformat(partner.created_at),
        "endpoint": {
            "enabled": partner.endpoint_enabled,
            "disabled_at": isoformat(partner.disabled_at),
            "disabled_reason": partner.disabled_reason,
            "last_success_at": isoformat(partner.last_success_at),
            "failing_since": isoformat(partner.failing_since),
            "consecutive_failures": partner.consecutive_failures,
        },
    }


def _partner(partner_id: str) -> partners.Partner:
    """The partner as the caller may see it: a partner sees only itself."""
    scope = current_principal().partner_scope
    if scope is not None and scope != partner_id:
        raise NotFound(f"No partner {partner_id}.")
    return partners.get_partner(partner_id)


@bp.get("/partners")
@documented("List partners and their endpoints' health", query=Page, responses={200: PartnerList})
@allow(OPERATOR)
def list_partners():
    params = parse_query(Page)
    return page(partners.Partner.select(), partners.Partner, params, partner_json)


@bp.post("/partners")
@documented("Create a partner", body=PartnerCreate, responses={201: PartnerCreated})
@allow(OPERATOR)
@idempotent
def create_partner():
    """The answer holds the partner's API key and webhook secret, shown this once."""
    body = parse_body(PartnerCreate)
    with db.atomic():
        partner, secret = partners.create_partner(body.name, body.webhook_url)
        _, api_key = keys.issue_key(keys.PARTNER, partner)
    return {**partner_json(partner), "api_key": api_key, "webhook_secret": secret}, 201


@bp.get("/partners/<partner_id>")
@documented("Get a partner", responses={200: PartnerOut})
@allow(OPERATOR, PARTNER)
def get_partner(partner_id: str):
    return partner_json(_partner(partner_id))


@bp.patch("/partners/<partner_id>")
@documented("Move a partner's endpoint", body=PartnerUpdate, responses={200: PartnerOut})
@allow(OPERATOR, PARTNER)
def update_partner(partner_id: str):
    body = parse_body(PartnerUpdate)
    with db.atomic():
        partner = _partner(partner_id)
        partner.webhook_url = partners.validate_webhook_url(body.webhook_url)
        partner.save()
    return partner_json(partner)


@bp.post("/partners/<partner_id>/endpoint/enable")
@documented("Enable a disabled endpoint", responses={200: EndpointEnabled})
@allow(OPERATOR)
def enable_endpoint(partner_id: str):
    """Deliveries held while it was disabled go out at once."""
    with db.atomic():
        partners.enable_endpoint(partner_id)
        released = redelivery.release_held(partner_id)
    send_now(released)
    return {**partner_json(partners.get_partner(partner_id)), "released_deliveries": len(released)}


@bp.post("/partners/<partner_id>/secret/rotate")
@documented("Rotate the webhook secret", responses={200: SecretRotated})
@allow(OPERATOR, PARTNER)
def rotate_secret(partner_id: str):
    """The previous secret keeps signing beside the new one for 24 hours."""
    with db.atomic():
        secret, previous_expires_at = partners.rotate_secret(_partner(partner_id).id)
    return {"webhook_secret": secret, "previous_secret_expires_at": isoformat(previous_expires_at)}
