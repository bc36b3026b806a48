"""A partner and an operator doing their jobs through the browser alone."""

import requests
from playwright.sync_api import expect

from models import deliveries, keys
from tests import factories
from tests.browser.conftest import sign_in
from tests.helpers import wait_until


def test_a_partner_settles_an_expired_order_and_the_marketplace_sees_it(page, live_server):
    acme = factories.partner(name="Acme Broadband")
    price = factories.price(factories.product(acme, name="Superfast Fibre 500"))
    expired = factories.order(price, **factories.expired(seconds_ago=120))
    factories.order(price)  # still in its processing window
    marketplace = factories.auth(factories.api_key(keys.MARKETPLACE))

    sign_in(page, live_server, acme.api_key)
    page.get_by_label("Processing window expired without an answer").check()
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    page.get_by_role("link", name=expired.id).click()
    expect(page.get_by_text("without an answer")).to_be_visible()
    page.get_by_label("Succesful").check()
    page.get_by_label("Output name 1").fill("reference")
    page.get_by_label("Output value 1").fill("ACC-123456")
    page.get_by_role("button", name="Save the answer").click()

    expect(page.locator(".flash")).to_contain_text(f"Order {expired.id} is now Succesful")
    shown = requests.get(f"{live_server}/orders/{expired.id}", headers=marketplace, timeout=10).json()
    assert shown["status"] == "Succesful" and shown["output"] == {"reference": "ACC-123456"}


def test_an_invalid_answer_is_explained_beside_the_field(page, live_server):
    acme = factories.partner()
    order = factories.order(factories.price(factories.product(acme)))

    sign_in(page, live_server, acme.api_key)
    page.goto(f"{live_server}/dashboard/orders/{order.id}")
    page.get_by_label("Need_more_info").check()
    page.get_by_role("button", name="Save the answer").click()

    expect(page.locator("#error-required_fields")).to_contain_text(
        "is required when the status is Need_more_info"
    )
    page.get_by_label("Required fields").fill("installation_date")
    page.get_by_role("button", name="Save the answer").click()
    expect(page.get_by_text("Waiting for the marketplace to add: installation_date")).to_be_visible()


def test_an_operator_requeues_a_dead_delivery_and_the_partner_gets_it(page, live_server, receiver):
    acme = factories.partner(name="Acme Broadband", webhook_url=receiver.url)
    factories.delivery(acme, deliveries.SUCCEEDED, (200,))
    dead = factories.delivery(acme, deliveries.DEAD, (500, 503, None))

    sign_in(page, live_server, factories.api_key(keys.OPERATOR))
    first_row = page.locator("#deliveries tbody tr").first
    expect(first_row).to_contain_text("dead")
    first_row.get_by_role("link", name=f"#{dead.id}").click()
    expect(page.locator("table.attempts tbody tr")).to_have_count(3)
    page.get_by_role("button", name=f"Re-queue delivery #{dead.id}").click()

    expect(page.locator(".flash")).to_contain_text("goes out now, under the same webhook-id")
    assert receiver.wait_for(1)[0].headers["webhook-id"] == dead.webhook_id
    wait_until(lambda: deliveries.get_delivery(dead.id).state == deliveries.SUCCEEDED)
    page.reload()
    expect(page.locator("h1 .badge")).to_have_text("succeeded")


def test_an_operator_requeues_every_failed_delivery_of_a_partner_after_confirming(
    page, live_server, receiver
):
    acme = factories.partner(name="Acme Broadband", webhook_url=receiver.url)
    failed = [factories.delivery(acme, state, (500,)) for state in (deliveries.DEAD, deliveries.RETRYING)]

    sign_in(page, live_server, factories.api_key(keys.OPERATOR))
    page.get_by_label("Partner").select_option(label="Acme Broadband")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Re-queue all matching…").click()
    expect(page.get_by_role("heading", name="Re-queue 2 deliveries?")).to_be_visible()
    page.get_by_role("button", name="Re-queue 2 deliveries").click()

    expect(page.locator(".flash")).to_contain_text("Re-queued 2 deliveries")
    received = {request.headers["webhook-id"] for request in receiver.wait_for(2)}
    assert received == {delivery.webhook_id for delivery in failed}


def test_a_script_in_an_orders_input_is_shown_as_text_and_never_runs(page, live_server):
    acme = factories.partner()
    attack = "<script>alert('owned')</script><img src=x onerror=\"document.body.dataset.owned='yes'\">"
    order = factories.order(factories.price(factories.product(acme)), input={"note": attack})

    sign_in(page, live_server, acme.api_key)
    page.goto(f"{live_server}/dashboard/orders/{order.id}")

    expect(page.locator("dd", has_text="<script>alert('owned')</script>")).to_be_visible()
    assert page.locator("script").count() == 0 and page.locator("img").count() == 0
    assert page.evaluate("document.body.dataset.owned") is None
    assert page.dialogs == []
