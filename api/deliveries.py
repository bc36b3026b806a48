"""Deliveries and their attempts: operators watch and re-queue them; partners see and re-queue their own.

GET  /deliveries                 ?partner_id= &state= &event_type= &created_after= &created_before=
GET  /deliveries/{id}            one delivery, its body and every attempt
POST /deliveries/{id}/requeue    attempt it again now (same webhook-id; logged as manual)
POST /deliveries/requeue         operators: re-queue every match of the filters, or count them
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.auth import allow, current_principal
from api.openapi import documented
from api.pagination import page
from api.responses import BulkRequeued, DeliveryDetail, DeliveryList, ErrorOut, Requeued
from api.schemas import BulkRequeue, DeliveryQuery
from api.validation import parse_body, parse_query, parse_timestamp
from models import redelivery
from models.base import isoformat
from models.db import db
from models.deliveries import Attempt, Delivery
from models.errors import NotFound
from models.keys import OPERATOR, PARTNER
from workers.delivery import send_batches_now, send_now

bp = Blueprint("deliveries", __name__)


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "webhook_id": delivery.webhook_id,
        "partner_id": delivery.partner_id,
        "order_id": delivery.order_id,
        "event_type": delivery.event_type,
        "state": delivery.state,
        "attempt_count": delivery.attempt_count,
        "next_attempt_at": isoformat(delivery.next_attempt_at),
        "created_at": isoformat(delivery.created_at),
        "last_attempt_at": isoformat(delivery.last_attempt_at),
        "delivered_at": isoformat(delivery.delivered_at),
    }


def attempt_json(attempt: Attempt) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "attempted_at": isoformat(attempt.attempted_at),
        "url": attempt.url,
        "status_code": attempt.status_code,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
        "response_excerpt": attempt.response_excerpt,
        "trigger": attempt.trigger,
    }


def filters_from(values: dict[str, Any]) -> redelivery.Filters:
    """The list's filters; a partner's are always confined to its own deliveries."""
    scope = current_principal().partner_scope
    asked = values.get("partner_id")
    if scope and asked not in (None, scope):  # another partner's: not one this key may see
        raise NotFound(f"No partner {asked}.", fields={"partner_id": "does not exist"})

    def moment(name: str):
        value = values.get(name)
        return parse_timestamp(name, value) if isinstance(value, str) else value

    return redelivery.Filters(
        partner_id=scope or asked,
        state=values.get("state"),
        event_type=values.get("event_type"),
        created_after=moment("created_after"),
        created_before=moment("created_before"),
    )


@bp.get("/deliveries")
@documented("List webhook deliveries, newest first", query=DeliveryQuery, responses={200: DeliveryList})
@allow(OPERATOR, PARTNER)
def list_deliveries():
    params = parse_query(DeliveryQuery)
    query = redelivery.matching(filters_from(params))
    return page(query, Delivery, params, delivery_json)


@bp.get("/deliveries/<int:delivery_id>")
@documented("Get a delivery with its every attempt", responses={200: DeliveryDetail})
@allow(OPERATOR, PARTNER)
def get_delivery(delivery_id: int):
    delivery = redelivery.get_delivery(delivery_id, partner_id=current_principal().partner_scope)
    attempts = Attempt.select().where(Attempt.delivery == delivery.id).order_by(Attempt.id)
    return {
        **delivery_json(delivery),
        "payload": delivery.payload_json,
        "attempts": [attempt_json(attempt) for attempt in attempts],
    }


@bp.post("/deliveries/<int:delivery_id>/requeue")
@documented("Attempt a delivery again now", responses={202: Requeued, 409: ErrorOut})
@allow(OPERATOR, PARTNER)
def requeue_delivery(delivery_id: int):
    """Same webhook-id; the attempt is logged as manual."""
    with db.atomic():
        delivery = redelivery.get_delivery(delivery_id, partner_id=current_principal().partner_scope)
        requeued = redelivery.requeue(delivery)
    if requeued:
        send_now([delivery.id])
    return {"requeued": requeued, "delivery": delivery_json(redelivery.get_delivery(delivery.id))}, 202


@bp.post("/deliveries/requeue")
@documented(
    "Re-queue every matching delivery", body=BulkRequeue, responses={200: BulkRequeued, 202: BulkRequeued}
)
@allow(OPERATOR)
def requeue_matching():
    """Re-queue every delivery matching the filters (the failed ones when no state is named)."""
    body = parse_body(BulkRequeue)
    filters = filters_from(body.model_dump(exclude={"dry_run"}))
    if body.dry_run:
        return {"dry_run": True, "matched": redelivery.count_requeueable(filters), "requeued": 0}
    requeued = send_batches_now(redelivery.requeue_batches(filters))
    return {"dry_run": False, "matched": requeued, "requeued": requeued}, 202
