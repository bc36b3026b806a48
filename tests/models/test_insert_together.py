import pytest
from peewee import IntegrityError

from models import deliveries, orders
from models.base import insert_together
from tests import factories


def unsaved_order_and_webhook(webhook_id: str | None = None):
    order = orders.new_order(
        factories.price(factories.product(factories.partner())), factories.user().id, {}, 60
    )
    webhook = deliveries.new_delivery(order.partner_id, orders.EVENT_CREATED, {"id": order.id}, order.id)
    if webhook_id:
        webhook.webhook_id = webhook_id
    return order, webhook


def test_rows_are_written_in_order_and_a_later_one_may_point_at_an_earlier_one():
    order, webhook = unsaved_order_and_webhook()

    insert_together(order, webhook)

    assert isinstance(webhook.id, int)
    stored = deliveries.get_delivery(webhook.id)
    assert stored.order_id == order.id and stored.webhook_id == webhook.webhook_id
    assert stored.payload_json == {"id": order.id}
    assert orders.get_order(order.id).window_ends_at == order.window_ends_at


def test_each_call_numbers_its_own_rows():
    first, second = unsaved_order_and_webhook(), unsaved_order_and_webhook()

    insert_together(*first)
    insert_together(*second)

    assert second[1].id == first[1].id + 1


def test_rows_are_written_all_or_none():
    taken = factories.delivery(factories.partner()).webhook_id
    order, webhook = unsaved_order_and_webhook(webhook_id=taken)

    with pytest.raises(IntegrityError):
        insert_together(order, webhook)

    assert orders.Order.get_or_none(orders.Order.id == order.id) is None
    assert deliveries.Delivery.select().count() == 1
