"""What every generic endpoint shares: server-to-server keys only, ETags, and strict query strings."""

import hashlib
import re

import pytest

from models import MODELS, keys
from models.buyers import Buyer
from tests import factories
from tests.factories import auth


def generic_endpoints(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/generic/"):
            path = re.sub(r"<int:\w+>", "1", rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, path


def call(client, method, path, headers):
    body = {} if method in ("POST", "PATCH") else None
    return client.open(path, method=method, json=body, headers=headers)


def row_counts():
    return {model.__name__: model.select().count() for model in MODELS}


def test_every_generic_endpoint_refuses_partner_keys_and_requests_without_a_key(app, client):
    acme = factories.partner()
    endpoints = list(generic_endpoints(app))
    before = row_counts()

    for method, path in endpoints:
        assert call(client, method, path, acme.headers).status_code == 403, (method, path)
        refused = call(client, method, path, {})
        assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "unauthorized", (
            method,
            path,
        )

    assert {("POST", "/generic/verify_pin/"), ("PATCH", "/generic/transaction/1/")} <= set(endpoints)
    assert row_counts() == before


@pytest.mark.parametrize("role", [keys.MARKETPLACE, keys.OPERATOR])
def test_the_marketplace_and_operators_are_let_in(client, role):
    headers = auth(factories.api_key(role))

    assert client.get("/generic/buyer/", headers=headers).status_code == 200
    assert client.post("/generic/seller/", json={"uuid": f"m:{role}"}, headers=headers).status_code == 201


def test_a_get_carries_a_strong_etag_over_its_body(client, marketplace):
    buyer = factories.buyer()

    response = client.get(f"/generic/buyer/{buyer.id}/", headers=marketplace)

    assert response.headers["ETag"] == '"' + hashlib.sha256(response.get_data()).hexdigest() + '"'
    assert client.get("/generic/buyer/", headers=marketplace).headers["ETag"].startswith('"')


def test_if_none_match_answers_304_until_the_resource_changes(client, marketplace):
    buyer = factories.buyer()
    etag = client.get(f"/generic/buyer/{buyer.id}/", headers=marketplace).headers["ETag"]

    unchanged = client.get(f"/generic/buyer/{buyer.id}/", headers={**marketplace, "If-None-Match": etag})
    Buyer.update(active=False).where(Buyer.id == buyer.id).execute()
    changed = client.get(f"/generic/buyer/{buyer.id}/", headers={**marketplace, "If-None-Match": etag})

    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    assert unchanged.headers["ETag"] == etag
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["active"] is False


def test_if_match_with_another_version_is_a_412_error_without_the_resource(client, marketplace):
    buyer = factories.buyer()
    etag = client.get(f"/generic/buyer/{buyer.id}/", headers=marketplace).headers["ETag"]

    matched = client.get(f"/generic/buyer/{buyer.id}/", headers={**marketplace, "If-Match": etag})
    other = client.get(f"/generic/buyer/{buyer.id}/", headers={**marketplace, "If-Match": '"x"'})

    assert matched.status_code == 200
    assert other.status_code == 412 and "ETag" not in other.headers
    assert other.get_json() == {
        "error": {
            "code": "precondition_failed",
            "message": "If-Match names no current version of this resource.",
            "fields": {},
        }
    }


def test_errors_carry_no_etag(client, marketplace):
    assert "ETag" not in client.get("/generic/buyer/999/", headers=marketplace).headers


@pytest.mark.parametrize(
    "path", ["/generic/buyer/1/", "/generic/seller/", "/generic/product/", "/generic/transaction/1/"]
)
def test_an_unknown_query_parameter_is_a_400(client, marketplace, path):
    factories.buyer()

    response = client.get(f"{path}?format=json", headers=marketplace)

    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"format": "is not a known parameter"}


LISTS = [
    "/generic/buyer/",
    "/generic/seller/",
    "/generic/product/",
    "/generic/transaction/",
    "/generic/conflicts/",
]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "query, field",
    [
        ("limit=²", "limit"),
        ("limit=101", "limit"),
        ("offset=+1", "offset"),
        ("offset=9223372036854775808", "offset"),
    ],
)
def test_paging_takes_ascii_digits_within_range(client, operator, path, query, field):
    """``?limit=²`` was a 500: str.isdigit() lets a superscript two through to int()."""
    response = client.get(f"{path}?{query}", headers=operator)

    assert response.status_code == 400
    assert list(response.get_json()["error"]["fields"]) == [field]


@pytest.mark.parametrize("path", LISTS)
def test_a_list_pages_from_any_offset_a_database_can_hold(client, operator, path):
    response = client.get(f"{path}?offset=9223372036854775807", headers=operator)

    assert response.status_code == 200
    assert response.get_json()["objects"] == [] and response.get_json()["meta"]["next"] is None


@pytest.mark.parametrize(
    "kind, make, change",
    [
        ("buyer", lambda: factories.buyer(), {"active": False}),
        ("transaction", lambda: factories.transaction(), {"notes": "refunded by hand"}),
    ],
)
def test_a_change_under_if_match_is_made_only_to_the_version_read(client, marketplace, kind, make, change):
    resource = make()
    path = f"/generic/{kind}/{resource.id}/"
    read = client.get(path, headers=marketplace).headers["ETag"]
    client.patch(
        path,
        json={"notes": "someone else"} if kind == "transaction" else {"active": True},
        headers=marketplace,
    )  # a change since: for a buyer, to what it already was
    current = client.get(path, headers=marketplace).headers["ETag"]

    stale = client.patch(path, json=change, headers={**marketplace, "If-Match": '"not-it"'})
    assert stale.status_code == 412 and stale.get_json()["error"]["code"] == "precondition_failed"
    assert client.get(path, headers=marketplace).headers["ETag"] == current  # nothing changed

    fresh = client.patch(path, json=change, headers={**marketplace, "If-Match": current})
    assert fresh.status_code == 202
    assert client.get(path, headers=marketplace).headers["ETag"] not in (current, read)
    unconditional = client.patch(path, json=change, headers={**marketplace, "If-Match": "*"})
    assert unconditional.status_code == 202


def test_a_generic_answer_leaves_its_date_header_to_the_server(client, marketplace):
    buyer = factories.buyer()
    answer = client.get(f"/generic/buyer/{buyer.id}/", headers=marketplace)

    assert answer.status_code == 200 and "Date" not in answer.headers  # the server adds its one
