"""Orders: what an end user bought, the partner's answer, and the one-minute processing window.

Status words are the integration guide's, its spelling included ("Succesful"). The transitions:

    Pending        -> Succesful | Need_more_info | Failed   the partner answers
    Need_more_info -> Succesful | Failed                    the partner decides without more input
    Need_more_info -> Pending                               the marketplace adds the requested input
    Succesful, Failed                                       final

Every change is a conditional UPDATE on the status the change starts from, so two answers racing for
the same order cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from peewee import CharField, ColumnBase, DateTimeField, ForeignKeyField, IntegerField, ModelSelect, fn

from models.base import BaseModel, JSONField, isoformat, new_id, tuples, utcnow
from models.catalogue import Price, Product
from models.errors import Conflict, InvalidInput, NotFound
from models.partners import Partner
from models.users import EndUser

PENDING = "Pending"
SUCCESSFUL = "Succesful"  # sic: the integration guide's spelling, which partners already send
NEED_MORE_INFO = "Need_more_info"
FAILED = "Failed"
STATUSES = (PENDING, SUCCESSFUL, NEED_MORE_INFO, FAILED)

# The answers a partner may give, and the spellings accepted for them.
ANSWERS = {SUCCESSFUL: SUCCESSFUL, "Successful": SUCCESSFUL, NEED_MORE_INFO: NEED_MORE_INFO, FAILED: FAILED}
FINAL = (SUCCESSFUL, FAILED)
ANSWERABLE = (PENDING, NEED_MORE_INFO)

# The most fields an order's input (or a partner's output) holds, however many requests add them.
MAX_FIELDS = 100

EVENT_CREATED = "order.created"
EVENT_INPUT_ADDED = "order.input_added"


class Order(BaseModel):
    id = CharField(primary_key=True, default=lambda: new_id("po"))
    partner = ForeignKeyField(Partner, backref="orders", on_delete="CASCADE")
    product = ForeignKeyField(Product, backref="orders", on_delete="CASCADE")
    price = ForeignKeyField(Price, backref="orders", on_delete="CASCADE")
    user = ForeignKeyField(EndUser, backref="orders", on_delete="CASCADE")
    # The foreign keys' raw ids, which Peewee adds beside each field (declared for type checkers).
    partner_id: str
    product_id: str
    price_id: str
    user_id: str
    status = CharField(max_length=20, default=PENDING, index=True)
    input = JSONField(default=dict)
    output = JSONField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    answered_at = DateTimeField(null=True)
    # Which processing window is open: 1 when placed, one more each time the order returns to Pending.
    window_round = IntegerField(default=1)
    window_started_at = DateTimeField(default=utcnow)
    window_ends_at = DateTimeField()
    # Set when the window closed with the order still Pending (the partner had not answered in time).
    window_expired_at = DateTimeField(null=True)

    class Meta:
        table_name = "purchase_order"  # "order" is an SQL keyword
        indexes = (
            (("partner", "created_at"), False),
            (("created_at",), False),
            (("partner", "status", "created_at"), False),
        )

    def is_processing(self, now: datetime | None = None) -> bool:
        """What the marketplace's spinner shows: Pending, and the window still open."""
        return self.status == PENDING and (now or utcnow()) < self.window_ends_at


# The window backstop looks only at orders still waiting for an answer.
Order.add_index(
    Order.index(Order.window_ends_at, name="order_open_window").where(
        (Order.status == PENDING) & Order.window_expired_at.is_null()
    )
)


def order_document(order: Order, now: datetime | None = None) -> dict[str, Any]:
    """The order as the integration guide shows it, plus its output, timestamps and window.

    Both ``GET /orders/{id}`` and the webhook body use it, so a partner parses one shape.
    """
    return {
        "id": order.id,
        "status": order.status,
        "input": order.input,
        "prod_id": order.product_id,
        "pricing_id": order.price_id,
        "tpp_user_id": order.user_id,
        "output": order.output,
        "created_at": isoformat(order.created_at),
        "updated_at": isoformat(order.updated_at),
        "processing": order.is_processing(now),
        "processing_window": {
            "started_at": isoformat(order.window_started_at),
            "ends_at": isoformat(order.window_ends_at),
            "expired_at": isoformat(order.window_expired_at),
        },
    }


def new_order(price: Price, user_id: str, order_input: dict[str, str], window_seconds: float) -> Order:
    """A Pending order at ``price`` (its product loaded), its processing window open from now; unsaved,
    for the caller to write with its transaction and webhook (``models.placement``)."""
    now = utcnow()
    return Order(
        partner=price.product.partner_id,
        product=price.product_id,
        price=price.id,
        user=user_id,
        input=order_input,
        created_at=now,
        updated_at=now,
        window_started_at=now,
        window_ends_at=now + timedelta(seconds=window_seconds),
    )


def get_order(order_id: str, *, partner_id: str | None = None, in_full: bool = False) -> Order:
    """The order, seen by ``partner_id`` when given: another partner's order does not exist.

    ``in_full`` loads its product, price and user in the same query.
    """
    query = with_catalogue(Order.select(Order, Product, Price, EndUser)) if in_full else Order.select()
    query = query.where(Order.id == order_id)
    if partner_id is not None:
        query = query.where(Order.partner == partner_id)
    order = query.first()
    if order is None:
        raise NotFound(f"No order {order_id}.")
    return order


def with_catalogue(query: ModelSelect[Order]) -> ModelSelect[Order]:
    """``query`` joined to each order's product, price and user, so that reading them costs no query."""
    return query.join_from(Order, Product).join_from(Order, Price).join_from(Order, EndUser)


def unanswered_after_window(now: datetime | None = None) -> ColumnBase:
    """Orders whose processing window ended with no answer: the partner owes one, by hand if need be.

    Pending with the window's end passed, whether or not the window's timer has fired yet.
    """
    return (Order.status == PENDING) & (Order.window_ends_at <= (now or utcnow()))


def status_counts(partner_id: str) -> dict[str, int]:
    """How many of the partner's orders are in each status, zeros included."""
    rows = (
        Order.select(Order.status, fn.COUNT(Order.id))
        .where(Order.partner == partner_id)
        .group_by(Order.status)
    )
    return {**dict.fromkeys(STATUSES, 0), **dict(tuples(rows))}


def answer(order: Order, status: str, output: dict[str, str]) -> Order:
    """The partner's answer. Repeating the answer an order already holds changes nothing."""
    status = ANSWERS[status]
    if status == NEED_MORE_INFO and not output.get("required_fields", "").strip():
        raise InvalidInput(
            "Say which fields are needed: Need_more_info takes output.required_fields.",
            fields={"output.required_fields": "is required when the status is Need_more_info"},
        )
    if order.status == status and order.output == output:
        return order
    if order.status not in ANSWERABLE:
        if order.status == status:  # the same final answer, with another output
            message, field = f"Order {order.id} is already {status}, with another output.", "output"
        else:
            message, field = (
                f"Order {order.id} is already {order.status}; it cannot become {status}.",
                "status",
            )
        raise Conflict(message, fields={field: f"{order.status} is final"}, code="invalid_transition")
    if order.status == NEED_MORE_INFO and status == NEED_MORE_INFO:
        raise Conflict(
            f"Order {order.id} is already waiting for more information.",
            fields={"status": "the order already needs more info"},
            code="invalid_transition",
        )
    now = utcnow()
    changed = (
        Order.update(status=status, output=output, answered_at=now, updated_at=now)
        .where((Order.id == order.id) & (Order.status == order.status))
        .execute()
    )
    if not changed:  # another answer won the race: judge this one against that
        return answer(get_order(order.id), status, output)
    return get_order(order.id)


def add_input(order: Order, fields: dict[str, str], window_seconds: float) -> Order:
    """The marketplace supplies what the partner asked for: the order is Pending again, in a new window,
    and unanswered (the output that asked for more is the previous round's)."""
    if order.status != NEED_MORE_INFO:
        raise Conflict(
            f"Order {order.id} is {order.status}; input can only be added when it is {NEED_MORE_INFO}.",
            fields={"input": f"the order is {order.status}"},
            code="invalid_transition",
        )
    merged = {**order.input, **fields}
    if len(merged) > MAX_FIELDS:
        raise InvalidInput(
            f"The order would hold {len(merged)} input fields; at most {MAX_FIELDS} are kept.",
            fields={"input": f"would hold more than {MAX_FIELDS} fields with the order's own"},
        )
    now = utcnow()
    changed = (
        Order.update(
            status=PENDING,
            input=merged,
            output=None,
            updated_at=now,
            window_round=Order.window_round + 1,
            window_started_at=now,
            window_ends_at=now + timedelta(seconds=window_seconds),
            window_expired_at=None,
        )
        .where((Order.id == order.id) & (Order.status == NEED_MORE_INFO))
        .execute()
    )
    if not changed:
        return add_input(get_order(order.id), fields, window_seconds)
    return get_order(order.id)


def expire_window(order_id: str, window_round: int, now: datetime | None = None) -> bool:
    """Record that the window closed unanswered. False when answered, already closed or superseded."""
    now = now or utcnow()
    return bool(
        Order.update(window_expired_at=now)
        .where(
            (Order.id == order_id)
            & (Order.window_round == window_round)
            & (Order.status == PENDING)
            & Order.window_expired_at.is_null()
            & (Order.window_ends_at <= now)
        )
        .execute()
    )


def expire_overdue_windows(now: datetime | None = None, limit: int = 1000) -> int:
    """The backstop for lost timer messages: close every window past its end, at most ``limit``."""
    now = now or utcnow()
    unanswered = (Order.status == PENDING) & Order.window_expired_at.is_null() & (Order.window_ends_at <= now)
    overdue = Order.select(Order.id).where(unanswered).limit(limit)
    # The conditions again on the row updated: PostgreSQL checks those (not the subquery's) once more on
    # a row another transaction changed meanwhile, such as an answer committed just as the window ended.
    return Order.update(window_expired_at=now).where(Order.id.in_(overdue) & unanswered).execute()


def customer_of(partner_id: str, user_id: str) -> EndUser:
    """The user, if they ordered from ``partner_id``: a partner sees only its own customers."""
    user = (
        EndUser.select()
        .where(
            (EndUser.id == user_id)
            & fn.EXISTS(
                Order.select(Order.id).where((Order.user == EndUser.id) & (Order.partner == partner_id))
            )
        )
        .first()
    )
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user
