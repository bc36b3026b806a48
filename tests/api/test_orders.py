import threading
import time
from datetime import datetime

import pytest

from models import buyers, deliveries, keys, orders, sellers, transactions
from models.db import db
from tests import factories
from tests.conftest import SERVICE_TIER
from tests.factories import auth
from tests.helpers import wait_until


@pytest.fixture
def marketplace():
    return auth(factories.api_key(keys.MARKETPLACE))


@pytest.fixture
def shop():
    """A partner with an enabled product, a price, and a customer."""
    acme = factories.partner()
    product = factories.product(acme)
    price = factories.price(product)
    return acme, product, price, factories.user()


def place(client, marketplace, product, price, user, **input_fields):
    return client.post(
        "/orders",
        json={
            "prod_id": product.id,
            "pricing_id": price.id,
            "tpp_user_id": user.id,
            "input": input_fields or {"first_name": "Lisa", "sort_code": "11-22-33"},
        },
        headers=marketplace,
    )


def test_placing_an_order_returns_it_in_the_guides_shape(client, marketplace, shop):
    acme, product, price, user = shop

    response = place(client, marketplace, product, price, user)

    assert response.status_code == 201
    order = response.get_json()
    assert order["id"].startswith("po_")
    assert order["status"] == "Pending"
    assert order["input"] == {"first_name": "Lisa", "sort_code": "11-22-33"}
    assert (order["prod_id"], order["pricing_id"], order["tpp_user_id"]) == (product.id, price.id, user.id)
    assert order["output"] is None
    assert order["processing"] is True
    window = order["processing_window"]
    started = datetime.fromisoformat(window["started_at"].rstrip("Z"))
    ends = datetime.fromisoformat(window["ends_at"].rstrip("Z"))
    assert (ends - started).total_seconds() == pytest.approx(60)
    assert client.get(f"/orders/{order['id']}", headers=marketplace).get_json()["id"] == order["id"]


def test_placing_an_order_records_one_delivery_for_its_partner(client, marketplace, shop):
    acme, product, price, user = shop

    order = place(client, marketplace, product, price, user).get_json()

    (delivery,) = deliveries.Delivery.select().where(deliveries.Delivery.order == order["id"])
    assert delivery.partner_id == acme.id
    assert delivery.event_type == "order.created"
    assert delivery.webhook_id.startswith("msg_")


@pytest.mark.parametrize("currency, amount", [("GBP", 3999), ("JPY", 3999)])
def test_placing_an_order_opens_its_pending_payment_transaction(client, marketplace, currency, amount):
    acme = factories.partner()
    product = factories.product(acme)
    price = factories.price(product, currency=currency, amount=amount)

    order = place(client, marketplace, product, price, factories.user()).get_json()

    (transaction,) = transactions.Transaction.select()
    assert (transaction.amount, transaction.currency) == (amount, currency)
    assert (transaction.status, transaction.type) == (transactions.PENDING, transactions.PAYMENT)
    assert (transaction.order_id, transaction.uid_pay) == (order["id"], order["id"])
    assert transaction.seller_product.product_id == product.id
    assert transaction.buyer.uuid == f"courier:{order['tpp_user_id']}"


def test_a_disabled_product_cannot_be_ordered(client, marketplace, shop):
    acme, product, price, user = shop
    client.patch(f"/products/{product.id}", json={"enabled": False}, headers=acme.headers)

    response = place(client, marketplace, product, price, user)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "product_disabled"
    assert orders.Order.select().count() == 0 and deliveries.Delivery.select().count() == 0
    assert transactions.Transaction.select().count() == 0


def test_a_price_of_another_product_is_refused(client, marketplace, shop):
    acme, product, price, user = shop
    other_price = factories.price(factories.product(acme))

    response = place(client, marketplace, product, other_price, user)

    assert response.status_code == 404
    assert "pricing_id" in response.get_json()["error"]["fields"]
    assert orders.Order.select().count() == 0


@pytest.mark.parametrize(
    "change, field",
    [
        ({"prod_id": "prod_missing"}, "prod_id"),
        ({"tpp_user_id": "tus_missing"}, "tpp_user_id"),
        ({"input": {"age": 41}}, "input.age"),
        ({"input": "Lisa"}, "input"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_orders_are_refused_and_nothing_is_written(client, marketplace, shop, change, field):
    acme, product, price, user = shop
    body = {"prod_id": product.id, "pricing_id": price.id, "tpp_user_id": user.id, "input": {}}
    body.update(change)

    response = client.post("/orders", json=body, headers=marketplace)

    assert 400 <= response.status_code < 500
    assert field in response.get_json()["error"]["fields"]
    assert orders.Order.select().count() == 0 and deliveries.Delivery.select().count() == 0
    assert transactions.Transaction.select().count() == 0


@pytest.mark.parametrize("spelling", ["Succesful", "Successful"])
def test_the_partner_settles_an_order_as_the_guide_shows(client, marketplace, shop, spelling):
    acme, product, price, user = shop
    order = place(client, marketplace, product, price, user).get_json()

    response = client.post(
        f"/orders/{order['id']}", json={"status": spelling, "output": {"key": "Value"}}, headers=acme.headers
    )

    assert response.status_code == 200
    seen = client.get(f"/orders/{order['id']}", headers=marketplace).get_json()
    assert seen["status"] == "Succesful"
    assert seen["output"] == {"key": "Value"}
    assert seen["processing"] is False


def test_a_final_order_cannot_change_but_an_identical_answer_is_accepted(client, marketplace, shop):
    acme, product, price, user = shop
    order = place(client, marketplace, product, price, user).get_json()
    failed = {"status": "Failed", "output": {"error": "PBX Over capacity"}}
    client.post(f"/orders/{order['id']}", json=failed, headers=acme.headers)

    repeat = client.post(f"/orders/{order['id']}", json=failed, headers=acme.headers)
    change = client.post(
        f"/orders/{order['id']}", json={"status": "Succesful", "output": {}}, headers=acme.headers
    )

    other_output = client.post(
        f"/orders/{order['id']}", json={"status": "Failed", "output": {}}, headers=acme.headers
    )

    assert repeat.status_code == 200
    assert change.status_code == 409
    assert change.get_json()["error"]["code"] == "invalid_transition"
    assert other_output.status_code == 409
    assert other_output.get_json()["error"]["fields"] == {"output": "Failed is final"}
    assert "with another output" in other_output.get_json()["error"]["message"]
    assert orders.get_order(order["id"]).output == {"error": "PBX Over capacity"}


def test_an_unknown_status_word_is_refused(client, marketplace, shop):
    acme, product, price, user = shop
    order = place(client, marketplace, product, price, user).get_json()

    response = client.post(
        f"/orders/{order['id']}", json={"status": "Done", "output": {}}, headers=acme.headers
    )

    assert response.status_code == 400
    assert "status" in response.get_json()["error"]["fields"]


def test_need_more_info_names_the_fields_it_needs(client, marketplace, shop):
    acme, product, price, user = shop
    order = place(client, marketplace, product, price, user).get_json()

    vague = client.post(
        f"/orders/{order['id']}", json={"status": "Need_more_info", "output": {}}, headers=acme.headers
    )

    assert vague.status_code == 400
    assert "output.required_fields" in vague.get_json()["error"]["fields"]


def test_need_more_info_then_input_returns_the_order_to_pending_and_notifies_again(client, marketplace, shop):
    acme, product, price, user = shop
    order = place(client, marketplace, product, price, user).get_json()
    client.post(
        f"/orders/{order['id']}",
        json={"status": "Need_more_info", "output": {"required_fields": "engineer_appointment_date"}},
        headers=acme.headers,
    )

    response = client.patch(
        f"/orders/{order['id']}",
        json={"input": {"engineer_appointment_date": "2026-12-01"}},
        headers=marketplace,
    )

    resumed = response.get_json()
    assert response.status_code == 200
    assert resumed["status"] == "Pending" and resumed["processing"] is True
    assert resumed["input"]["engineer_appointment_date"] == "2026-12-01"
    assert resumed["input"]["sort_code"] == "11-22-33"
    assert resumed["output"] is None  # no answer yet in this round; the webhook says so too
    events = [d.event_type for d in deliveries.Delivery.select().order_by(deliveries.Delivery.id)]
    assert events == ["order.created", "order.input_added"]
    assert (
        deliveries.Delivery.select().order_by(deliveries.Delivery.id.desc()).first().payload_json["output"]
        is None
    )
    settled = client.post(
        f"/orders/{order['id']}", json={"status": "Succesful", "output": {}}, headers=acme.headers
    )
    assert settled.status_code == 200


def test_added_input_may_not_take_an_order_past_a_hundred_fields(client, marketplace, shop):
    acme, product, price, user = shop
    order = place(client, marketplace, product, price, user).get_json()  # two fields of its own
    asked = {"status": "Need_more_info", "output": {"required_fields": "more"}}
    client.post(f"/orders/{order['id']}", json=asked, headers=acme.headers)

    too_many = client.patch(
        f"/orders/{order['id']}", json={"input": {f"f{i}": "x" for i in range(99)}}, headers=marketplace
    )
    enough = client.patch(
        f"/orders/{order['id']}", json={"input": {f"f{i}": "x" for i in range(98)}}, headers=marketplace
    )

    assert too_many.status_code == 400 and "input" in too_many.get_json()["error"]["fields"]
    assert enough.status_code == 200 and len(enough.get_json()["input"]) == 100
    events = [d.event_type for d in deliveries.Delivery.select().order_by(deliveries.Delivery.id)]
    assert events == ["order.created", "order.input_added"]  # the refused request notified nobody


def test_input_can_only_be_added_when_more_info_was_asked_for(client, marketplace, shop):
    acme, product, price, user = shop
    order = place(client, marketplace, product, price, user).get_json()

    response = client.patch(f"/orders/{order['id']}", json={"input": {"a": "b"}}, headers=marketplace)

    assert response.status_code == 409
    assert orders.get_order(order["id"]).input == {"first_name": "Lisa", "sort_code": "11-22-33"}


def test_another_partners_order_is_a_404(client, marketplace, shop):
    acme, product, price, user = shop
    rival = factories.partner()
    order = place(client, marketplace, product, price, user).get_json()

    assert client.get(f"/orders/{order['id']}", headers=rival.headers).status_code == 404
    answer = client.post(
        f"/orders/{order['id']}", json={"status": "Failed", "output": {}}, headers=rival.headers
    )
    assert answer.status_code == 404
    assert orders.get_order(order["id"]).status == "Pending"


def test_a_partner_lists_only_its_orders_and_filters_by_status(client, marketplace, shop):
    acme, product, price, user = shop
    mine = [factories.order(price, user) for _ in range(2)]
    factories.order(price, user, status=orders.FAILED)
    factories.order()  # another partner's

    listed = client.get("/orders?status=Pending", headers=acme.headers).get_json()["data"]
    all_mine = client.get("/orders", headers=acme.headers).get_json()["data"]
    bad = client.get("/orders?status=Done", headers=acme.headers)

    assert {o["id"] for o in listed} == {o.id for o in mine}
    assert len(all_mine) == 3
    assert bad.status_code == 400


def test_the_processing_window_closes_unanswered_and_get_shows_it(make_app, shop):
    acme, product, price, user = shop
    client = make_app(processing_window_seconds=0.3).test_client()
    marketplace = auth(factories.api_key(keys.MARKETPLACE))

    order = place(client, marketplace, product, price, user).get_json()

    closed = wait_until(
        lambda: (
            (o := client.get(f"/orders/{order['id']}", headers=marketplace).get_json())["processing_window"][
                "expired_at"
            ]
            and o
        )
    )
    assert closed["status"] == "Pending"
    assert closed["processing"] is False
    late = client.post(
        f"/orders/{order['id']}", json={"status": "Succesful", "output": {}}, headers=acme.headers
    )
    assert late.status_code == 200  # the partner can still settle it, as from the dashboard


def test_an_answered_order_keeps_no_expiry(make_app, shop):
    acme, product, price, user = shop
    client = make_app(processing_window_seconds=0.3).test_client()
    marketplace = auth(factories.api_key(keys.MARKETPLACE))
    order = place(client, marketplace, product, price, user).get_json()

    client.post(f"/orders/{order['id']}", json={"status": "Succesful", "output": {}}, headers=acme.headers)

    wait_until(lambda: orders.get_order(order["id"]).window_ends_at <= orders.utcnow())
    # Give the window's timer time to fire before looking.
    wait_until(
        lambda: not orders.Order.select().where(orders.Order.window_expired_at.is_null(False)).exists(), 0.5
    )
    assert orders.get_order(order["id"]).window_expired_at is None


def test_a_customers_next_orders_reuse_their_buyer_and_each_products_seller_product(
    client, marketplace, shop
):
    acme, product, price, user = shop
    other_product = factories.product(acme)

    placed = [
        place(client, marketplace, product, price, user),
        place(client, marketplace, product, price, user),
        place(client, marketplace, other_product, factories.price(other_product), user),
    ]

    assert [response.status_code for response in placed] == [201, 201, 201]
    first, second, third = (
        transactions.Transaction.get(transactions.Transaction.order == response.get_json()["id"])
        for response in placed
    )
    assert first.buyer_id == second.buyer_id == third.buyer_id
    assert first.seller_product_id == second.seller_product_id != third.seller_product_id
    assert buyers.Buyer.select().count() == 1 and sellers.SellerProduct.select().count() == 2


@pytest.mark.skipif(not SERVICE_TIER, reason="SQLite's writers take turns: no update waits on another's row")
def test_the_backstop_does_not_close_a_window_answered_while_it_waited_for_the_row(shop):
    acme, product, price, user = shop
    order = factories.order(price)
    orders.Order.update(window_ends_at=orders.utcnow()).where(orders.Order.id == order.id).execute()
    answering, answered = threading.Event(), threading.Event()

    def answer_and_hold_the_row():
        with db.connection_context(), db.atomic():
            orders.Order.update(status=orders.SUCCESSFUL).where(orders.Order.id == order.id).execute()
            answering.set()
            answered.wait(5)  # commits only once the backstop is waiting for the row

    partner = threading.Thread(target=answer_and_hold_the_row)
    partner.start()
    answering.wait(5)
    closed = []
    backstop = threading.Thread(
        target=lambda: closed.append(_in_own_connection(orders.expire_overdue_windows))
    )
    backstop.start()
    time.sleep(0.3)  # the backstop's UPDATE now waits on the answer's row lock
    answered.set()
    partner.join()
    backstop.join()

    assert closed == [0] and orders.get_order(order.id).window_expired_at is None


def _in_own_connection(work):
    with db.connection_context():
        return work()
