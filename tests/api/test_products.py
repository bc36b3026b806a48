from models import catalogue, keys
from tests import factories
from tests.factories import auth

SEED_PRODUCT = {
    "name": "Your product",
    "description": "Your product description.",
    "enabled": True,
    "meta": {"your_extra_attributes": "value"},
    "product_type": "utilities_broadband",
}


def test_a_partner_creates_a_product_with_the_guides_body(client):
    acme = factories.partner()

    response = client.post("/products", json=SEED_PRODUCT, headers=acme.headers)

    assert response.status_code == 201
    body = response.get_json()
    assert body["id"].startswith("prod_") and len(body["id"]) == len("prod_") + 21
    assert {k: body[k] for k in SEED_PRODUCT} == SEED_PRODUCT
    assert body["partner_id"] == acme.id
    assert client.get(f"/products/{body['id']}", headers=acme.headers).get_json() == body


def test_every_one_of_the_guides_27_product_types_is_accepted(client):
    acme = factories.partner()

    statuses = {
        product_type: client.post(
            "/products", json={**SEED_PRODUCT, "product_type": product_type}, headers=acme.headers
        ).status_code
        for product_type in catalogue.PRODUCT_TYPES
    }

    assert len(statuses) == 27
    assert set(statuses.values()) == {201}


def test_an_unknown_product_type_is_refused_and_nothing_is_written(client):
    acme = factories.partner()

    response = client.post(
        "/products", json={**SEED_PRODUCT, "product_type": "utilities_water"}, headers=acme.headers
    )

    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert "product_type" in error["fields"]
    assert catalogue.Product.select().count() == 0


def test_missing_fields_wrong_types_and_unknown_fields_are_named(client):
    acme = factories.partner()

    response = client.post(
        "/products",
        json={"name": 7, "enabled": "yes", "meta": {"a": 1}, "colour": "red"},
        headers=acme.headers,
    )

    fields = response.get_json()["error"]["fields"]
    assert response.status_code == 400
    assert fields["description"] == "is required"
    assert fields["product_type"] == "is required"
    assert fields["colour"] == "is not a known field"
    assert "name" in fields and "enabled" in fields and "meta.a" in fields


def test_malformed_json_is_a_400_that_says_so(client):
    acme = factories.partner()

    response = client.post(
        "/products", data=b'{"name": "x",', headers={**acme.headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"


def test_an_oversized_body_is_a_413(client, settings):
    acme = factories.partner()
    huge = {**SEED_PRODUCT, "description": "x" * (settings.max_request_bytes + 1)}

    response = client.post("/products", json=huge, headers=acme.headers)

    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_a_partner_disables_and_enables_its_product(client):
    acme = factories.partner()
    product = factories.product(acme)

    disabled = client.patch(f"/products/{product.id}", json={"enabled": False}, headers=acme.headers)
    enabled = client.patch(f"/products/{product.id}", json={"enabled": True}, headers=acme.headers)

    assert disabled.status_code == 200 and disabled.get_json()["enabled"] is False
    assert enabled.get_json()["enabled"] is True
    assert catalogue.get_product(product.id).enabled is True


def test_a_patch_may_not_null_a_field(client):
    acme = factories.partner()
    product = factories.product(acme)

    response = client.patch(f"/products/{product.id}", json={"name": None}, headers=acme.headers)

    assert response.status_code == 400
    assert "name" in response.get_json()["error"]["fields"]
    assert catalogue.get_product(product.id).name == product.name


def test_another_partners_product_does_not_exist_for_a_partner(client):
    acme, rival = factories.partner(), factories.partner()
    product = factories.product(rival)

    assert client.get(f"/products/{product.id}", headers=acme.headers).status_code == 404
    assert (
        client.patch(f"/products/{product.id}", json={"enabled": False}, headers=acme.headers).status_code
        == 404
    )
    assert (
        client.post(
            f"/products/{product.id}/pricing",
            json={"name": "x", "currency": "GBP", "amount": 1},
            headers=acme.headers,
        ).status_code
        == 404
    )


def test_lists_are_scoped_filtered_and_paginated(client):
    acme, rival = factories.partner(), factories.partner()
    mine = [factories.product(acme) for _ in range(3)]
    factories.product(rival)
    factories.product(acme, enabled=False)
    marketplace = auth(factories.api_key(keys.MARKETPLACE))

    first = client.get("/products?limit=2&enabled=true", headers=acme.headers).get_json()
    second = client.get(
        f"/products?limit=2&enabled=true&starting_after={first['data'][-1]['id']}", headers=acme.headers
    ).get_json()
    everything = client.get("/products?limit=100", headers=marketplace).get_json()

    assert [p["id"] for p in first["data"] + second["data"]] == [p.id for p in reversed(mine)]
    assert first["has_more"] is True and second["has_more"] is False
    assert len(everything["data"]) == 5


def test_an_unknown_query_parameter_is_refused(client):
    acme = factories.partner()

    response = client.get("/products?enabeld=true", headers=acme.headers)

    assert response.status_code == 400
    assert "enabeld" in response.get_json()["error"]["fields"]


def test_an_operator_creates_a_product_for_a_named_partner(client):
    acme = factories.partner()
    operator = auth(factories.api_key(keys.OPERATOR))

    without = client.post("/products", json=SEED_PRODUCT, headers=operator)
    with_partner = client.post("/products", json={**SEED_PRODUCT, "partner_id": acme.id}, headers=operator)

    assert without.status_code == 400 and "partner_id" in without.get_json()["error"]["fields"]
    assert with_partner.status_code == 201 and with_partner.get_json()["partner_id"] == acme.id


def test_the_marketplace_reads_but_does_not_write_the_catalogue(client):
    product = factories.product(factories.partner())
    marketplace = auth(factories.api_key(keys.MARKETPLACE))

    assert client.get(f"/products/{product.id}", headers=marketplace).status_code == 200
    refused = client.post("/products", json=SEED_PRODUCT, headers=marketplace)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"


def test_the_guides_other_name_for_the_product_type_is_taken_too(client):
    acme = factories.partner()
    body = {key: value for key, value in SEED_PRODUCT.items() if key != "product_type"}

    created = client.post("/products", json={**body, "type": "lending_loans"}, headers=acme.headers)
    product_id = created.get_json()["id"]
    moved = client.patch(f"/products/{product_id}", json={"type": "lending_mortgages"}, headers=acme.headers)
    both = client.post(
        "/products",
        json={**body, "type": "lending_loans", "product_type": "lending_loans"},
        headers=acme.headers,
    )
    unknown = client.post("/products", json={**body, "type": "utilities_water"}, headers=acme.headers)

    assert created.status_code == 201 and created.get_json()["product_type"] == "lending_loans"
    assert moved.status_code == 200 and moved.get_json()["product_type"] == "lending_mortgages"
    assert both.status_code == 400 and both.get_json()["error"]["fields"] == {"type": "is not a known field"}
    assert unknown.status_code == 400 and "type" in unknown.get_json()["error"]["fields"]
