import re
from datetime import timedelta

import pytest

from models import deliveries, keys, orders, transactions
from models.base import utcnow
from tests import factories
from tests.factories import auth
from tests.helpers import wait_until


@pytest.fixture
def marketplace():
    return auth(factories.api_key(keys.MARKETPLACE))


def order_ids(page: str) -> list[str]:
    """The orders a list page links to, in the order shown."""
    return re.findall(r'href="/dashboard/orders/(po_\w+)"', page)


def settle(browser, order_id, status="", required_fields="", **output):
    rows = list(output.items()) + [("", "")] * (4 - len(output))
    return browser.post(
        f"/dashboard/orders/{order_id}/answer",
        {
            "status": status,
            "required_fields": required_fields,
            "output_key": [key for key, _ in rows],
            "output_value": [value for _, value in rows],
        },
    )


def test_the_list_shows_only_the_partners_own_orders_newest_first(partner_browser):
    browser, acme, price = partner_browser
    older = factories.order(price, created_at=utcnow() - timedelta(minutes=5))
    newer = factories.order(price)
    factories.order()  # another partner's

    page = browser.get("/dashboard/orders").get_data(as_text=True)

    assert order_ids(page) == [newer.id, older.id]
    assert "Superfast Fibre 500" in page and "39.99 GBP" in page and "Lisa Nichols" in page


def test_the_list_counts_orders_per_status(partner_browser):
    browser, acme, price = partner_browser
    for status in ("Pending", "Succesful", "Succesful", "Failed"):
        factories.order(price, status=status)
    factories.order(status="Failed")  # another partner's

    page = browser.get("/dashboard/orders").get_data(as_text=True)

    counts = dict(re.findall(r"(All|Pending|Succesful|Need_more_info|Failed) <b>(\d+)</b>", page))
    assert counts == {"All": "4", "Pending": "1", "Succesful": "2", "Need_more_info": "0", "Failed": "1"}


def test_filtering_by_status(partner_browser):
    browser, acme, price = partner_browser
    failed = factories.order(price, status="Failed")
    factories.order(price, status="Succesful")

    page = browser.get("/dashboard/orders?status=Failed").get_data(as_text=True)

    assert order_ids(page) == [failed.id]
    assert browser.get("/dashboard/orders?status=Lost").status_code == 400


def test_filtering_orders_whose_window_expired_without_an_answer(partner_browser):
    browser, acme, price = partner_browser
    expired = factories.order(price, **factories.expired())
    factories.order(price)  # still in its window
    factories.order(price, status="Succesful", **factories.expired())  # answered

    page = browser.get("/dashboard/orders?expired=1").get_data(as_text=True)

    assert order_ids(page) == [expired.id]
    assert "window expired" in page


def test_filtering_orders_whose_webhook_was_not_delivered(partner_browser):
    browser, acme, price = partner_browser
    undelivered, delivered, never_sent = (factories.order(price) for _ in range(3))
    for order, state in ((undelivered, deliveries.DEAD), (delivered, deliveries.SUCCEEDED)):
        webhook = deliveries.create_delivery(acme.id, "order.created", {"id": order.id}, order.id)
        deliveries.Delivery.update(state=state).where(deliveries.Delivery.id == webhook.id).execute()

    page = browser.get("/dashboard/orders?undelivered=1").get_data(as_text=True)

    assert order_ids(page) == [undelivered.id]


def test_the_list_is_paginated_newest_first(partner_browser):
    browser, acme, price = partner_browser
    placed = [factories.order(price, created_at=utcnow() - timedelta(seconds=n)) for n in range(5)]

    first = browser.get("/dashboard/orders?limit=2").get_data(as_text=True)
    second = browser.get(f"/dashboard/orders?limit=2&starting_after={placed[1].id}").get_data(as_text=True)

    assert order_ids(first) == [placed[0].id, placed[1].id] and "Older →" in first
    assert order_ids(second) == [placed[2].id, placed[3].id]


def test_the_order_page_shows_input_product_price_customer_and_attempts(partner_browser):
    browser, acme, price = partner_browser
    euro = factories.price(price.product, name="Annual", currency="EUR", amount=32900)
    order = factories.order(euro, by=factories.user(phone="07700 900123"), input={"sort_code": "11-22-33"})
    webhook = deliveries.create_delivery(acme.id, "order.created", {"id": order.id}, order.id)
    deliveries.Attempt.create(delivery=webhook, url=acme.partner.webhook_url, status_code=503, duration_ms=42)

    page = browser.get(f"/dashboard/orders/{order.id}").get_data(as_text=True)

    for shown in (
        "sort_code",
        "11-22-33",
        "Superfast Fibre 500",
        "329.00 EUR",
        "Lisa Nichols",
        "07700 900123",
    ):
        assert shown in page
    assert webhook.webhook_id in page and "HTTP 503" in page and "42 ms" in page


def test_another_partners_order_is_a_404_page(partner_browser):
    browser, acme, price = partner_browser
    theirs = factories.order()

    response = browser.get(f"/dashboard/orders/{theirs.id}")
    answer = settle(browser, theirs.id, "Failed")

    assert response.status_code == 404 and "text/html" in response.content_type
    assert theirs.id not in order_ids(browser.get("/dashboard/orders").get_data(as_text=True))
    assert answer.status_code == 404
    assert orders.get_order(theirs.id).status == "Pending"


def test_settling_an_order_is_what_the_marketplace_reads_at_once(partner_browser, client, marketplace):
    browser, acme, price = partner_browser
    order = factories.order(price, **factories.expired())

    response = settle(browser, order.id, "Succesful", reference="ACC-123456")

    assert response.status_code == 302 and response.location == f"/dashboard/orders/{order.id}"
    shown = client.get(f"/orders/{order.id}", headers=marketplace).get_json()
    assert shown["status"] == "Succesful" and shown["output"] == {"reference": "ACC-123456"}
    assert "is now Succesful" in browser.get(response.location).get_data(as_text=True)


def test_need_more_info_takes_the_required_fields_and_the_page_shows_them(partner_browser):
    browser, acme, price = partner_browser
    order = factories.order(price)

    settle(browser, order.id, "Need_more_info", required_fields="installation_date")
    page = browser.get(f"/dashboard/orders/{order.id}").get_data(as_text=True)

    assert orders.get_order(order.id).output == {"required_fields": "installation_date"}
    assert "Waiting for the marketplace to add: <strong>installation_date</strong>" in page
    assert 'value="Need_more_info"' not in page  # the form offers only Succesful and Failed now


@pytest.mark.parametrize(
    "answer, field, message",
    [
        ({"status": ""}, "status", "must be one of"),
        ({"status": "Need_more_info"}, "required_fields", "is required when the status is Need_more_info"),
        ({"status": "Failed", "error": "x" * 5001}, "row0", "at most 5000 characters"),
    ],
)
def test_an_invalid_answer_is_shown_beside_its_field_and_nothing_changes(
    partner_browser, answer, field, message
):
    browser, acme, price = partner_browser
    order = factories.order(price)

    response = settle(browser, order.id, **answer)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(rf'id="error-{field}">[^<]*{message}', page), page
    assert orders.get_order(order.id).status == "Pending"


def test_a_value_without_a_name_is_refused(partner_browser):
    browser, acme, price = partner_browser
    order = factories.order(price)

    response = browser.post(
        f"/dashboard/orders/{order.id}/answer",
        {"status": "Failed", "output_key": ["", "error"], "output_value": ["orphan", "PBX Over capacity"]},
    )

    assert response.status_code == 400
    assert 'id="error-row0">give this value a name' in response.get_data(as_text=True)
    assert 'value="PBX Over capacity"' in response.get_data(as_text=True)  # what was typed is kept


def test_rows_sent_unpaired_lose_nothing_silently(partner_browser):
    browser, acme, price = partner_browser
    order = factories.order(price)

    settled = browser.post(
        f"/dashboard/orders/{order.id}/answer",
        {"status": "Failed", "output_key": ["error", "ticket"], "output_value": ["PBX Over capacity"]},
    )
    unnamed = browser.post(
        f"/dashboard/orders/{factories.order(price).id}/answer",
        {"status": "Failed", "output_key": ["error"], "output_value": ["PBX Over capacity", "orphan"]},
    )

    assert settled.status_code == 302
    assert orders.get_order(order.id).output == {"error": "PBX Over capacity", "ticket": ""}
    assert unnamed.status_code == 400 and "give this value a name" in unnamed.get_data(as_text=True)


def test_a_final_order_cannot_change_and_the_message_is_the_apis(partner_browser, client):
    browser, acme, price = partner_browser
    order = factories.order(price, status="Succesful", output={})

    page = settle(browser, order.id, "Failed", error="late")
    api = client.post(
        f"/orders/{order.id}", json={"status": "Failed", "output": {"error": "late"}}, headers=acme.headers
    )

    assert page.status_code == 409 and api.status_code == 409
    assert api.get_json()["error"]["message"] in page.get_data(as_text=True)
    assert orders.get_order(order.id).status == "Succesful"


@pytest.mark.parametrize("where", ["input", "output", "product"])
def test_text_from_users_and_partners_is_escaped(partner_browser, where):
    browser, acme, price = partner_browser
    script = "<script>alert('owned')</script>"
    if where == "product":
        price = factories.price(factories.product(acme, name=script))
    order = factories.order(price, input={"note": script} if where == "input" else {"a": "b"})
    if where == "output":
        orders.Order.update(status="Failed", output={"error": script}).where(
            orders.Order.id == order.id
        ).execute()

    for path in ("/dashboard/orders", f"/dashboard/orders/{order.id}", "/dashboard/products"):
        page = browser.get(path).get_data(as_text=True)
        assert "<script>" not in page
    page = browser.get(f"/dashboard/orders/{order.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page


def test_settling_by_hand_brings_the_payment_transaction_along(partner_browser):
    browser, acme, price = partner_browser
    order = factories.order(price, **factories.expired())
    transaction = factories.transaction(for_order=order)

    settle(browser, order.id, "Succesful", reference="ACC-123456")

    wait_until(lambda: transactions.get_transaction(transaction.id).status == transactions.COMPLETED)
