from models import catalogue, keys
from tests import factories
from tests.factories import auth


def test_a_partner_sees_its_products_and_their_prices(partner_browser):
    browser, acme, price = partner_browser
    factories.price(price.product, name="Annual payment", currency="JPY", amount=3999)
    factories.product(factories.partner(), name="Rival Fibre")

    page = browser.get("/dashboard/products").get_data(as_text=True)

    assert "Superfast Fibre 500" in page and "Rival Fibre" not in page
    assert "Monthly payment" in page and "39.99 GBP" in page
    assert "3,999 JPY" in page  # no minor units in yen


def test_disabling_a_product_takes_it_off_the_marketplace(partner_browser, client):
    browser, acme, price = partner_browser
    marketplace = auth(factories.api_key(keys.MARKETPLACE))
    body = {"prod_id": price.product_id, "pricing_id": price.id, "tpp_user_id": factories.user().id}

    response = browser.post(f"/dashboard/products/{price.product_id}/enabled", {"enabled": "false"})

    assert response.status_code == 302
    assert "is off the marketplace" in browser.get("/dashboard/products").get_data(as_text=True)
    assert client.post("/orders", json=body, headers=marketplace).status_code == 409

    browser.post(f"/dashboard/products/{price.product_id}/enabled", {"enabled": "true"})

    assert client.post("/orders", json=body, headers=marketplace).status_code == 201


def test_another_partners_product_cannot_be_changed(partner_browser):
    browser, acme, price = partner_browser
    theirs = factories.product(factories.partner())

    response = browser.post(f"/dashboard/products/{theirs.id}/enabled", {"enabled": "false"})

    assert response.status_code == 404
    assert catalogue.get_product(theirs.id).enabled is True


def test_a_malformed_toggle_is_refused(partner_browser):
    browser, acme, price = partner_browser

    response = browser.post(f"/dashboard/products/{price.product_id}/enabled", {"enabled": "maybe"})

    assert response.status_code == 400 and "enabled must be true or false" in response.get_data(as_text=True)
