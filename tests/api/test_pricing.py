import pytest

from models import catalogue
from tests import factories


def test_a_product_has_many_prices(client):
    acme = factories.partner()
    product = factories.product(acme)

    monthly = client.post(
        f"/products/{product.id}/pricing",
        json={"name": "Monhtly payment", "currency": "GBP", "amount": 3999},
        headers=acme.headers,
    )
    yearly = client.post(
        f"/products/{product.id}/pricing",
        json={"name": "Yearly", "currency": "eur", "amount": 45000},
        headers=acme.headers,
    )
    listed = client.get(f"/products/{product.id}/pricing", headers=acme.headers).get_json()["data"]

    assert monthly.status_code == 201 and yearly.status_code == 201
    assert monthly.get_json()["id"].startswith("price_")
    assert monthly.get_json()["amount"] == 3999 and monthly.get_json()["prod_id"] == product.id
    assert yearly.get_json()["currency"] == "EUR"
    assert [p["name"] for p in listed] == ["Monhtly payment", "Yearly"]
    one = client.get(f"/products/{product.id}/pricing/{monthly.get_json()['id']}", headers=acme.headers)
    assert one.get_json() == monthly.get_json()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "currency": "GBX", "amount": 100}, "currency"),
        ({"name": "x", "currency": "POUNDS", "amount": 100}, "currency"),
        ({"name": "x", "currency": "GBP", "amount": 0}, "amount"),
        ({"name": "x", "currency": "GBP", "amount": -5}, "amount"),
        ({"name": "x", "currency": "GBP", "amount": 39.99}, "amount"),
        ({"name": "x", "currency": "GBP", "amount": "3999"}, "amount"),
        ({"name": "x", "currency": "GBP", "amount": True}, "amount"),
        ({"currency": "GBP", "amount": 100}, "name"),
    ],
)
def test_bad_prices_are_refused_naming_the_field(client, body, field):
    acme = factories.partner()
    product = factories.product(acme)

    response = client.post(f"/products/{product.id}/pricing", json=body, headers=acme.headers)

    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]
    assert catalogue.Price.select().count() == 0


def test_pricing_an_unknown_product_is_a_404(client):
    acme = factories.partner()

    response = client.post(
        "/products/prod_nope/pricing",
        json={"name": "x", "currency": "GBP", "amount": 1},
        headers=acme.headers,
    )

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
