"""Orders: the marketplace places them, the partner answers, the marketplace adds what was missing.

Each change is written in one transaction, and its messages (the webhook, the window's timer, the
reconciliation of its payment transaction) are sent only after that transaction commits: a worker never
wakes up for a row it cannot see yet.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app

from api.auth import allow, current_principal
from api.idempotency import idempotent
from api.openapi import documented
from api.pagination import page
from api.responses import ErrorOut, OrderList, OrderOut
from api.schemas import OrderAnswer, OrderCreate, OrderInput, OrderQuery
from api.validation import parse_body, parse_query
from models import deliveries, orders, placement, settlement
from models.db import db
from models.errors import InvalidInput
from models.keys import MARKETPLACE, OPERATOR, PARTNER
from workers import delivery, processing_window, reconcile
from workers.dispatch import after_commit

bp = Blueprint("orders", __name__)
logger = logging.getLogger(__name__)


def _window_seconds() -> float:
    return current_app.config["SETTINGS"].processing_window_seconds


def _visible_order(order_id: str) -> orders.Order:
    return orders.get_order(order_id, partner_id=current_principal().partner_scope)


def _notify_partner(order: orders.Order, event_type: str) -> deliveries.Delivery:
    """Record the webhook for ``order`` in the caller's transaction."""
    return deliveries.create_delivery(
        order.partner_id, event_type, {**orders.order_document(order), "event": event_type}, order.id
    )


def _announce(order: orders.Order, webhook: deliveries.Delivery) -> None:
    """After the commit: wake a worker for the webhook and start the window's timer, in one round trip."""
    with after_commit():
        delivery.enqueue(webhook)
        processing_window.schedule_close(order)


def _log_change(order: orders.Order, previous_status: str | None) -> None:
    """One line per change of an order's status: the order's story in the logs."""
    logger.info(
        "order %s: %s -> %s",
        order.id,
        previous_status or "new",
        order.status,
        extra={
            "event": "order.status",
            "order_id": order.id,
            "partner_id": order.partner_id,
            "from_status": previous_status,
            "status": order.status,
        },
    )


@bp.post("/orders")
@documented("Place an order", body=OrderCreate, responses={201: OrderOut, 409: ErrorOut})
@allow(OPERATOR, MARKETPLACE)
@idempotent
def place_order():
    """The partner hears of it by webhook; the order shows as processing for its window."""
    body = parse_body(OrderCreate)
    placed = placement.place_order(
        body.prod_id, body.pricing_id, body.tpp_user_id, body.input, _window_seconds()
    )
    _announce(placed.order, placed.webhook)
    _log_change(placed.order, None)
    return orders.order_document(placed.order), 201


@bp.get("/orders")
@documented("List orders, newest first", query=OrderQuery, responses={200: OrderList})
@allow(OPERATOR, MARKETPLACE, PARTNER)
def list_orders():
    params = parse_query(OrderQuery)
    query = orders.Order.select()
    scope = current_principal().partner_scope
    if scope:
        query = query.where(orders.Order.partner == scope)
    if "status" in params:
        if params["status"] not in orders.STATUSES:
            raise InvalidInput(
                f"Unknown status {params['status']!r}.",
                fields={"status": "must be one of " + ", ".join(orders.STATUSES)},
            )
        query = query.where(orders.Order.status == params["status"])
    if "prod_id" in params:
        query = query.where(orders.Order.product == params["prod_id"])
    if "tpp_user_id" in params:
        query = query.where(orders.Order.user == params["tpp_user_id"])
    return page(query, orders.Order, params, orders.order_document)


@bp.get("/orders/<order_id>")
@documented("Get an order", responses={200: OrderOut})
@allow(OPERATOR, MARKETPLACE, PARTNER)
def get_order(order_id: str):
    return orders.order_document(_visible_order(order_id))


@bp.post("/orders/<order_id>")
@documented("Answer an order (partner)", body=OrderAnswer, responses={200: OrderOut, 409: ErrorOut})
@allow(OPERATOR, PARTNER)
@idempotent
def answer_order(order_id: str):
    """The partner's update, as the guide shows it: ``{"status": "Succesful", "output": {...}}``."""
    body = parse_body(OrderAnswer)
    with db.atomic():
        before = _visible_order(order_id)
        order = settlement.answer(before, body.status, body.output)
    reconcile.enqueue(order.id)
    if order.status != before.status:
        _log_change(order, before.status)
    return orders.order_document(order)


@bp.patch("/orders/<order_id>")
@documented("Add the input a partner asked for", body=OrderInput, responses={200: OrderOut, 409: ErrorOut})
@allow(OPERATOR, MARKETPLACE)
@idempotent
def add_order_input(order_id: str):
    """The marketplace adds the fields a Need_more_info answer asked for; the partner hears again."""
    body = parse_body(OrderInput)
    with db.atomic():
        before = _visible_order(order_id)
        order = settlement.add_input(before, body.input, _window_seconds())
        webhook = _notify_partner(order, orders.EVENT_INPUT_ADDED)
    with after_commit():  # the three messages in one round trip
        _announce(order, webhook)
        reconcile.enqueue(order.id)
    _log_change(order, before.status)
    return orders.order_document(order)
