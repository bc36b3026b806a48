"""Every page reads what it shows in a fixed number of queries: no query per row."""

import pytest

from models import deliveries
from models.db import statements_run
from tests import factories


def fill_partner(acme, price, rows):
    for _ in range(rows):
        order = factories.order(price, by=factories.user())
        factories.delivery(acme, deliveries.DEAD, (500, 503), for_order=order)


def statements_for(browser, path):
    with statements_run() as statements:
        response = browser.get(path)
    assert response.status_code == 200 and statements
    return len(statements)


@pytest.mark.parametrize(
    "path", ["/dashboard/orders", "/dashboard/orders?undelivered=1", "/dashboard/products"]
)
def test_partner_pages_cost_the_same_for_2_rows_as_for_12(partner_browser, path):
    browser, acme, price = partner_browser
    fill_partner(acme, price, 2)
    few = statements_for(browser, path)

    fill_partner(acme, factories.price(factories.product(acme)), 10)

    assert statements_for(browser, path) == few


def test_the_order_page_costs_the_same_for_1_webhook_as_for_5(partner_browser):
    browser, acme, price = partner_browser
    order = factories.order(price)
    factories.delivery(acme, deliveries.DEAD, (500,), for_order=order)
    few = statements_for(browser, f"/dashboard/orders/{order.id}")

    for _ in range(4):
        factories.delivery(acme, deliveries.DEAD, (500, 500, 500), for_order=order)

    assert statements_for(browser, f"/dashboard/orders/{order.id}") == few


@pytest.mark.parametrize("path", ["/dashboard/deliveries", "/dashboard/partners"])
def test_operator_pages_cost_the_same_for_2_rows_as_for_12(operator_browser, path):
    acme = factories.partner()
    for _ in range(2):
        factories.delivery(factories.partner(), deliveries.DEAD, (500, 500))
    few = statements_for(operator_browser, path)

    for _ in range(10):
        factories.delivery(factories.partner(), deliveries.RETRYING, (500, 503, None))
    factories.delivery(acme, deliveries.SUCCEEDED, (200,))

    assert statements_for(operator_browser, path) == few
