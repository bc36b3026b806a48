"""Operators' deliveries: counts by state and partner, the last hour in charts, the failing ones first,
one delivery with its attempts, and re-queues (one, or every match of the filters after a confirmation).

The filters are the API's (``redelivery.Filters`` through ``api.deliveries.filters_from``), and so are
the re-queues: ``redelivery.requeue`` and ``requeue_batches``, with the wake-ups sent after the rows are
written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from api.dashboard import charts
from api.dashboard.session import login_required
from api.deliveries import filters_from
from api.validation import parse_integer
from models import deliveries, delivery_stats, orders, partners, redelivery
from models.base import utcnow
from models.db import db
from models.errors import Conflict, InvalidInput
from models.keys import OPERATOR
from workers.delivery import send_batches_now, send_now

bp = Blueprint("deliveries", __name__)

FILTER_FIELDS = ("partner_id", "state", "event_type", "created_after", "created_before")
PAGE_SIZE = 25


def _filters(values: Mapping[str, str]) -> tuple[redelivery.Filters, dict[str, Any]]:
    """The filter form's fields as the API's filters, and the fields that were filled in."""
    given = {name: values[name].strip() for name in FILTER_FIELDS if values.get(name, "").strip()}
    return filters_from(given), given


def _cursor(raw: str | None) -> deliveries.Delivery | None:
    if not raw:
        return None
    delivery_id = parse_integer(raw)
    if delivery_id is None:
        raise InvalidInput("starting_after must be a delivery id from the previous page.")
    return redelivery.get_delivery(delivery_id)


@bp.get("/deliveries")
@login_required(OPERATOR)
def list_deliveries():
    filters, given = _filters(request.args)
    rows = redelivery.triaged(filters, PAGE_SIZE + 1, after=_cursor(request.args.get("starting_after")))
    shown = rows[:PAGE_SIZE]
    now = utcnow()
    since = charts.first_minute(now)
    return render_template(
        "dashboard/deliveries.html",
        deliveries=shown,
        has_more=len(rows) > PAGE_SIZE,
        given=given,
        attempts=deliveries.attempts_by_delivery([delivery.id for delivery in shown]),
        partner_names=partners.names(),
        state_counts=delivery_stats.state_counts(),
        partner_counts=delivery_stats.counts_by_partner(),
        outcomes=charts.outcomes_per_minute(delivery_stats.attempts_per_minute(since), now),
        latency=charts.latency_bars(delivery_stats.latency_percentiles(since)),
        states=redelivery.TRIAGE_ORDER,
        events=(orders.EVENT_CREATED, orders.EVENT_INPUT_ADDED),
    )


@bp.get("/deliveries/<int:delivery_id>")
@login_required(OPERATOR)
def show_delivery(delivery_id: int):
    delivery = redelivery.get_delivery(delivery_id)
    return render_template(
        "dashboard/delivery.html",
        delivery=delivery,
        partner=partners.get_partner(delivery.partner_id),
        attempts=deliveries.attempts_by_delivery([delivery.id])[delivery.id],
        requeueable=delivery.state in redelivery.REQUEUEABLE,
    )


@bp.post("/deliveries/<int:delivery_id>/requeue")
@login_required(OPERATOR)
def requeue_delivery(delivery_id: int):
    try:
        with db.atomic():
            requeued = redelivery.requeue(redelivery.get_delivery(delivery_id))
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for(".show_delivery", delivery_id=delivery_id))
    if requeued:
        send_now([delivery_id])
        flash(f"Delivery {delivery_id} is queued and goes out now, under the same webhook-id.")
    else:
        flash(f"Delivery {delivery_id} was already waiting to go out.")
    return redirect(url_for(".show_delivery", delivery_id=delivery_id))


@bp.get("/deliveries/requeue")
@login_required(OPERATOR)
def confirm_requeue():
    filters, given = _filters(request.args)
    return render_template(
        "dashboard/requeue_confirm.html",
        count=redelivery.count_requeueable(filters),
        given=given,
        partner_names=partners.names(),
        states=[filters.state] if filters.state else list(redelivery.FAILED_STATES),
    )


@bp.post("/deliveries/requeue")
@login_required(OPERATOR)
def requeue_matching():
    filters, given = _filters(request.form)
    requeued = send_batches_now(redelivery.requeue_batches(filters))
    flash(f"Re-queued {requeued} {'delivery' if requeued == 1 else 'deliveries'}; they go out now.")
    return redirect(url_for(".list_deliveries", **given))
