"""Input the databases or the parsers cannot take is refused as a 4xx, before it reaches them."""

import io

import pytest

from models import keys, orders
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


def test_a_body_nested_past_the_decoders_depth_is_malformed_json_with_or_without_an_idempotency_key(client):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))
    deep = "[" * 1100 + "]" * 1100

    plain = client.post("/users", data=deep, headers=marketplace)
    keyed = client.post("/users", data=deep, headers={**marketplace, "Idempotency-Key": "deep-1"})

    assert plain.status_code == keyed.status_code == 400
    assert keyed.get_json()["error"]["code"] == "malformed_json"


def test_a_chunked_body_past_the_limit_is_a_413_not_cut_short_and_used(client, settings):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))
    user = b'{"first_name": "Li", "last_name": "N", "email": "li@example.com"}'
    padded = user + b" " * settings.max_request_bytes + b"garbage"

    def chunked(body: bytes):
        return client.post(
            "/users",
            input_stream=io.BytesIO(body),
            headers={**marketplace, "Transfer-Encoding": "chunked", "Content-Type": "application/json"},
            environ_overrides={"wsgi.input_terminated": True},  # as gunicorn says of a chunked body
        )

    refused, accepted = chunked(padded), chunked(user)

    assert refused.status_code == 413 and refused.get_json()["error"]["code"]
    assert accepted.status_code == 201


def test_a_query_parameter_given_twice_is_a_400_not_a_guess(client):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))

    response = client.get("/orders?status=Pending&status=Failed&limit=1", headers=marketplace)

    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"status": "is given more than once"}


@pytest.mark.parametrize(
    "query",
    [
        "starting_after=%C2%B2",  # "²" passes str.isdigit, not int()
        "starting_after=99999999999999999999",  # past 64 bits: SQLite cannot even compare with it
        "starting_after=" + "9" * 5000,  # past int()'s digit limit
        "created_after=0001-01-01T00:00:00%2B01:00",  # no UTC form: before year 1
        "created_before=9999-12-31T23:59:59-01:00",  # no UTC form: after year 9999
    ],
)
def test_numbers_and_timestamps_out_of_any_range_are_400s(client, query):
    operator = auth(factories.api_key(keys.OPERATOR))

    response = client.get(f"/deliveries?{query}", headers=operator)

    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["fields"]


def test_a_key_given_twice_in_one_object_is_refused_and_nothing_is_written(client):
    order = factories.order()
    partner = auth(keys.issue_key(keys.PARTNER, order.partner)[1])

    answer = client.post(
        f"/orders/{order.id}",
        data=b'{"status": "Succesful", "output": {}, "status": "Failed"}',
        headers={**partner, "Content-Type": "application/json"},
    )

    assert answer.status_code == 400
    assert answer.get_json()["error"]["fields"] == {"status": "is given more than once"}
    assert orders.get_order(order.id).status == orders.PENDING


def test_malformed_json_is_refused_with_where_the_parser_stopped(client):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))

    answer = client.post("/users", data=b'{"first_name": "Li",\n "last_name" "N"}', headers=marketplace)

    assert answer.status_code == 400
    assert answer.get_json()["error"]["message"] == (
        "The request body is not valid JSON: expected `:` at line 2 column 14."
    )
