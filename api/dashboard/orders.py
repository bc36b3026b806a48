"""Partners' orders: the list with its filters and counts, one order in full, and settling it by hand.

Settling runs the API's own rules: the form becomes an ``OrderAnswer`` (the schema ``POST /orders/{id}``
validates with) and goes through ``settlement.answer``, so a transition the API refuses is refused here
with the same message, and the marketplace reads the new status at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import zip_longest

from flask import Blueprint, flash, redirect, render_template, request, url_for
from peewee import ModelSelect
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from api.auth import current_principal
from api.dashboard.session import login_required
from api.errors import describe_validation_error
from api.pagination import page_rows
from api.schemas import OrderAnswer
from models import deliveries, orders, settlement
from models.catalogue import Price, Product
from models.db import db
from models.errors import Conflict, InvalidInput
from models.keys import PARTNER
from models.users import EndUser
from workers import reconcile

bp = Blueprint("orders", __name__)

# Blank key/value rows the settle form offers for the output.
OUTPUT_ROWS = 4


@dataclass(frozen=True)
class OrderFilters:
    status: str | None = None
    expired: bool = False  # the processing window ended without an answer
    undelivered: bool = False  # a webhook for the order has not been delivered

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> OrderFilters:
        status = args.get("status") or None
        if status is not None and status not in orders.STATUSES:
            raise InvalidInput(f"Unknown status {status!r}: use one of {', '.join(orders.STATUSES)}.")
        return cls(status, args.get("expired") == "1", args.get("undelivered") == "1")

    def apply(self, query: ModelSelect[orders.Order]) -> ModelSelect[orders.Order]:
        if self.status is not None:
            query = query.where(orders.Order.status == self.status)
        if self.expired:
            query = query.where(orders.unanswered_after_window())
        if self.undelivered:
            query = query.where(deliveries.webhook_not_delivered())
        return query


@bp.get("/orders")
@login_required(PARTNER)
def list_orders():
    partner_id = current_principal().partner_id
    filters = OrderFilters.from_args(request.args)
    mine = orders.Order.select(orders.Order, Product, Price, EndUser).where(
        orders.Order.partner == partner_id
    )
    rows, has_more = page_rows(filters.apply(orders.with_catalogue(mine)), orders.Order, request.args)
    return render_template(
        "dashboard/orders.html",
        orders=rows,
        has_more=has_more,
        filters=filters,
        counts=orders.status_counts(partner_id or ""),
        webhook_states=deliveries.latest_state_by_order([order.id for order in rows]),
    )


@dataclass
class AnswerForm:
    """The settle form: a status, the fields a Need_more_info answer asks for, and output rows."""

    status: str = ""
    required_fields: str = ""
    rows: list[tuple[str, str]] = field(default_factory=lambda: [("", "")] * OUTPUT_ROWS)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form: MultiDict[str, str]) -> AnswerForm:
        # Padded, not cut short: a name or a value without its partner is kept, and output() says so.
        rows = list(zip_longest(form.getlist("output_key"), form.getlist("output_value"), fillvalue=""))
        return cls(form.get("status", ""), form.get("required_fields", ""), rows)

    def output(self) -> dict[str, str]:
        """The rows as the answer's output; a value with no name, or a name given twice, is an error."""
        output: dict[str, str] = {}
        for index, (key, value) in enumerate(self.rows):
            key = key.strip()
            if not key and value.strip():
                self.errors[f"row{index}"] = "give this value a name"
            elif key in output or (key == "required_fields" and self.required_fields.strip()):
                self.errors[f"row{index}"] = f"{key!r} is given twice"
            elif key:
                output[key] = value
        if self.required_fields.strip():
            output["required_fields"] = self.required_fields.strip()
        return output

    def answer(self) -> OrderAnswer | None:
        """The validated answer, or None with ``errors`` saying what to correct."""
        output = self.output()
        try:
            answer = OrderAnswer.model_validate({"status": self.status, "output": output})
        except ValidationError as exc:
            self.place_errors(describe_validation_error(exc))
            return None
        return None if self.errors else answer

    def place_errors(self, fields: dict[str, str]) -> None:
        """Put the API's field errors beside the inputs they are about: ``output.<key>`` on its row."""
        rows = {key.strip(): f"row{index}" for index, (key, _) in enumerate(self.rows) if key.strip()}
        for path, text in fields.items():
            name = path
            if path.startswith("output."):
                key = path.removeprefix("output.").split(".")[0]
                name = "required_fields" if key == "required_fields" else rows.get(key, path)
            self.errors.setdefault(name, text)


def _order_page(order: orders.Order, form: AnswerForm, problem: str | None = None, status: int = 200):
    webhooks = deliveries.deliveries_of_order(order.id)
    page = render_template(
        "dashboard/order.html",
        order=order,
        form=form,
        problem=problem,
        webhooks=webhooks,
        attempts=deliveries.attempts_by_delivery([webhook.id for webhook in webhooks]),
        answerable=order.status in orders.ANSWERABLE,
        answers=(orders.SUCCESSFUL, orders.NEED_MORE_INFO, orders.FAILED),
    )
    return page, status


def _my_order(order_id: str) -> orders.Order:
    return orders.get_order(order_id, partner_id=current_principal().partner_id, in_full=True)


@bp.get("/orders/<order_id>")
@login_required(PARTNER)
def show_order(order_id: str):
    return _order_page(_my_order(order_id), AnswerForm())


@bp.post("/orders/<order_id>/answer")
@login_required(PARTNER)
def answer_order(order_id: str):
    order = _my_order(order_id)
    form = AnswerForm.from_form(request.form)
    answer = form.answer()
    if answer is None:
        return _order_page(order, form, "The answer was not saved: correct the fields marked below.", 400)
    try:
        with db.atomic():
            settled = settlement.answer(order, answer.status, answer.output)
    except InvalidInput as exc:
        form.place_errors(exc.fields)
        return _order_page(order, form, exc.message, 400)
    except Conflict as exc:
        return _order_page(_my_order(order_id), form, exc.message, 409)
    reconcile.enqueue(settled.id)
    flash(f"Order {settled.id} is now {settled.status}. The marketplace shows it already.")
    return redirect(url_for(".show_order", order_id=settled.id))
