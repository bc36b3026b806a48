"""Input PostgreSQL cannot hold is refused as input, on every tier, before it reaches the database."""

from models import keys
from tests import factories
from tests.factories import auth


def test_a_nul_character_in_a_body_field_is_a_400_naming_the_field(client):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))

    response = client.post(
        "/users",
        json={"first_name": "Li\x00sa", "last_name": "N", "email": "lisa@example.com", "phone": "1\x002"},
        headers=marketplace,
    )

    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {
        "first_name": "may not contain NUL characters",
        "phone": "may not contain NUL characters",
    }


def test_a_nul_character_in_a_map_key_or_value_is_refused(client):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))
    body = {"prod_id": "prod_1", "pricing_id": "price_1", "tpp_user_id": "tus_1", "input": {"a\x00": "b"}}

    response = client.post("/orders", json=body, headers=marketplace)

    assert response.status_code == 400 and "input" in response.get_json()["error"]["fields"]


def test_an_id_no_row_can_have_finds_nothing_and_a_nul_in_the_query_is_refused(client):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))

    assert client.get("/orders/po_%00x", headers=marketplace).status_code == 404
    assert (
        client.get(f"/deliveries/{2**64}", headers=auth(factories.api_key(keys.OPERATOR))).status_code == 404
    )
    assert client.get("/orders?prod_id=a%00b", headers=marketplace).status_code == 400
