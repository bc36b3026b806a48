"""The generic API's real answers, each status of each operation, match the OpenAPI document."""

import pytest

from models import orders, reconciliation
from models.orders import Order
from models.transactions import CANCELLED, PENDING, PROVIDER_BANGO, REFUND
from tests import factories
from tests.api.test_openapi import assert_documented, operation


@pytest.fixture
def document(client):
    return client.get("/openapi.json").get_json()


@pytest.fixture
def check(client, document):
    """Call ``"METHOD /path/{id}/"`` and check that it answered ``status`` as the document says."""

    def call(route: str, headers, json=None, *, status: int, query: str = "", **ids):
        method, template = route.split(" ")
        response = client.open(template.format(**ids) + query, method=method, headers=headers, json=json)
        assert response.status_code == status, (route, response.get_data(as_text=True))
        assert_documented(document, method, template, response)
        return response

    return call


def holding(headers, response):
    """``headers`` asking again for what ``response`` answered, with its ETag."""
    return {**headers, "If-None-Match": response.headers["ETag"]}


def test_the_lists_say_what_they_filter_by_and_every_get_is_conditional(document):
    listing = operation(document, "GET", "/generic/transaction/")
    buyer = operation(document, "GET", "/generic/buyer/{buyer_id}/")

    assert [p["name"] for p in listing["parameters"]] == [
        "limit", "offset", "uuid", "provider", "status", "seller", "If-None-Match",
    ]  # fmt: skip
    assert next(p for p in listing["parameters"] if p["name"] == "status")["schema"]["enum"] == [
        0,
        1,
        2,
        3,
        4,
        5,
    ]
    assert [p["name"] for p in buyer["parameters"]] == ["buyer_id", "If-None-Match"]
    assert "ETag" in buyer["responses"]["200"]["headers"] and "content" not in buyer["responses"]["304"]
    body = document["components"]["schemas"]["TransactionCreate"]["properties"]
    assert body["seller_product"]["type"] == "string" and body["amount"]["type"] == "string"


def test_buyers(check, marketplace):
    created = check("POST /generic/buyer/", marketplace, {"uuid": "doc:1", "pin": "8472"}, status=201)
    buyer_id = created.get_json()["resource_pk"]
    check("POST /generic/buyer/", marketplace, {"uuid": "doc:2"}, status=201)
    check("POST /generic/buyer/", marketplace, {"uuid": "doc:1"}, status=409)
    check("POST /generic/buyer/", marketplace, {"uuid": "doc:3", "pin": "12"}, status=400)

    page = check("GET /generic/buyer/", marketplace, query="?active=true&limit=1", status=200)
    assert page.get_json()["meta"]["next"] is not None
    check("GET /generic/buyer/", holding(marketplace, page), query="?active=true&limit=1", status=304)
    check("GET /generic/buyer/", marketplace, query="?offset=1&limit=1&uuid=doc:1", status=200)
    check("GET /generic/buyer/", marketplace, query="?active=maybe", status=400)

    one = check("GET /generic/buyer/{buyer_id}/", marketplace, status=200, buyer_id=buyer_id)
    check("GET /generic/buyer/{buyer_id}/", holding(marketplace, one), status=304, buyer_id=buyer_id)
    check("GET /generic/buyer/{buyer_id}/", marketplace, query="?format=json", status=400, buyer_id=buyer_id)
    check("GET /generic/buyer/{buyer_id}/", marketplace, status=404, buyer_id=999_999)

    check(
        "PATCH /generic/buyer/{buyer_id}/",
        marketplace,
        {"needs_pin_reset": True},
        status=202,
        buyer_id=buyer_id,
    )
    check("PATCH /generic/buyer/{buyer_id}/", marketplace, {"pin": "1111"}, status=409, buyer_id=buyer_id)
    check("PATCH /generic/buyer/{buyer_id}/", marketplace, {"uuid": "doc:9"}, status=400, buyer_id=buyer_id)
    check("PATCH /generic/buyer/{buyer_id}/", marketplace, {"active": False}, status=404, buyer_id=999_999)


def test_the_pin_endpoints_in_their_own_shapes(check, marketplace):
    uuid = factories.buyer(pin="8472").uuid
    right, wrong, malformed, unknown = (
        {"uuid": uuid, "pin": "8472"},
        {"uuid": uuid, "pin": "8473"},
        {"uuid": uuid, "pin": "84"},
        {"uuid": "doc:nobody", "pin": "8472"},
    )

    assert check("POST /generic/confirm_pin/", marketplace, wrong, status=201).get_json() == {
        "confirmed": False
    }
    check("POST /generic/confirm_pin/", marketplace, right, status=201)
    check("POST /generic/confirm_pin/", marketplace, right, status=409)
    check("POST /generic/confirm_pin/", marketplace, unknown, status=404)
    check("POST /generic/confirm_pin/", marketplace, malformed, status=400)
    # Refused before the endpoint runs, so in Courier's envelope: the document allows for both.
    refused = check("POST /generic/confirm_pin/", marketplace, right, query="?a=%00", status=400)
    assert "error" in refused.get_json()

    assert check("POST /generic/verify_pin/", marketplace, wrong, status=201).get_json() == {
        "valid": False,
        "locked": False,
    }
    check("POST /generic/verify_pin/", marketplace, right, status=201)
    check("POST /generic/verify_pin/", marketplace, unknown, status=404)
    check("POST /generic/verify_pin/", marketplace, malformed, status=400)
    check("POST /generic/verify_pin/", marketplace, {"uuid": uuid}, status=400)

    check("POST /generic/reset_confirm_pin/", marketplace, right, status=409)
    buyer_id = factories.buyer(uuid="doc:resetting").id
    for change in ({"needs_pin_reset": True}, {"new_pin": "2580"}):
        check("PATCH /generic/buyer/{buyer_id}/", marketplace, change, status=202, buyer_id=buyer_id)
    new_pin = {"uuid": "doc:resetting", "pin": "2580"}
    check("POST /generic/reset_confirm_pin/", marketplace, new_pin, status=201)
    check("POST /generic/reset_confirm_pin/", marketplace, unknown, status=404)
    check("POST /generic/reset_confirm_pin/", marketplace, malformed, status=400)


def test_sellers_and_their_products(check, marketplace):
    seller = check("POST /generic/seller/", marketplace, {"uuid": "doc:seller"}, status=201).get_json()
    seller_id = seller["resource_pk"]
    check("POST /generic/seller/", marketplace, {"uuid": "doc:seller"}, status=409)
    check("POST /generic/seller/", marketplace, {"uuid": "courier:mine"}, status=400)
    factories.seller()

    page = check("GET /generic/seller/", marketplace, query="?limit=1", status=200)
    check("GET /generic/seller/", holding(marketplace, page), query="?limit=1", status=304)
    check("GET /generic/seller/", marketplace, query="?uuid=doc:seller", status=200)
    check("GET /generic/seller/", marketplace, query="?limit=many", status=400)
    one = check("GET /generic/seller/{seller_id}/", marketplace, status=200, seller_id=seller_id)
    check("GET /generic/seller/{seller_id}/", holding(marketplace, one), status=304, seller_id=seller_id)
    check("GET /generic/seller/{seller_id}/", marketplace, status=404, seller_id=999_999)

    body = {"seller": seller["resource_uri"], "external_id": "app-1"}
    product = check("POST /generic/product/", marketplace, body, status=201).get_json()
    check("POST /generic/product/", marketplace, body, status=409)
    check("POST /generic/product/", marketplace, {**body, "seller": "/generic/seller/999999/"}, status=404)
    check("POST /generic/product/", marketplace, {**body, "seller": seller_id}, status=400)
    courier_seller = factories.transaction(for_order=factories.order()).seller_product.seller
    check(
        "POST /generic/product/",
        marketplace,
        {**body, "seller": f"/generic/seller/{courier_seller.id}/"},
        status=409,
    )

    page = check("GET /generic/product/", marketplace, query="?limit=1", status=200)
    check("GET /generic/product/", holding(marketplace, page), query="?limit=1", status=304)
    check("GET /generic/product/", marketplace, query=f"?seller={seller_id}&external_id=app-1", status=200)
    check("GET /generic/product/", marketplace, query="?seller=one", status=400)
    product_id = product["resource_pk"]
    one = check("GET /generic/product/{product_id}/", marketplace, status=200, product_id=product_id)
    check("GET /generic/product/{product_id}/", holding(marketplace, one), status=304, product_id=product_id)
    check("GET /generic/product/{product_id}/", marketplace, status=404, product_id=999_999)


def test_transactions(check, marketplace):
    body = {
        "amount": "39.99",
        "currency": "GBP",
        "provider": PROVIDER_BANGO,
        "seller_product": f"/generic/product/{factories.seller_product().id}/",
        "buyer": f"/generic/buyer/{factories.buyer().id}/",
        "uuid": "doc:payment",
        "uid_support": "2304",
    }
    payment = check("POST /generic/transaction/", marketplace, body, status=201).get_json()
    refund = {**body, "uuid": "doc:refund", "type": REFUND, "related": payment["resource_uri"]}
    check("POST /generic/transaction/", marketplace, refund, status=201)
    check("POST /generic/transaction/", marketplace, body, status=409)
    check(
        "POST /generic/transaction/",
        marketplace,
        {**body, "uuid": "doc:2", "buyer": "/generic/buyer/999999/"},
        status=404,
    )
    check("POST /generic/transaction/", marketplace, {**body, "amount": 39.99}, status=400)
    factories.transaction(for_order=factories.order())  # Courier's own: provider 100, no uid_support

    page = check("GET /generic/transaction/", marketplace, query="?limit=1&offset=1", status=200)
    assert page.get_json()["meta"]["next"] and page.get_json()["meta"]["previous"]
    check("GET /generic/transaction/", holding(marketplace, page), query="?limit=1&offset=1", status=304)
    check(
        "GET /generic/transaction/",
        marketplace,
        query=f"?status={PENDING}&provider=1&uuid=doc:payment",
        status=200,
    )
    check("GET /generic/transaction/", marketplace, query="?status=9", status=400)
    transaction_id = payment["resource_pk"]
    one = check(
        "GET /generic/transaction/{transaction_id}/", marketplace, status=200, transaction_id=transaction_id
    )
    assert one.get_json()["relations"]
    check(
        "GET /generic/transaction/{transaction_id}/",
        holding(marketplace, one),
        status=304,
        transaction_id=transaction_id,
    )
    check("GET /generic/transaction/{transaction_id}/", marketplace, status=404, transaction_id=999_999)

    patch = "PATCH /generic/transaction/{transaction_id}/"
    check(
        patch,
        marketplace,
        {"status": CANCELLED, "notes": "cancelled"},
        status=202,
        transaction_id=transaction_id,
    )
    check(patch, marketplace, {"status": PENDING}, status=400, transaction_id=transaction_id)
    check(patch, marketplace, {"notes": "x"}, status=404, transaction_id=999_999)


def test_conflicts(check, operator):
    order = factories.order()
    factories.transaction(for_order=order, status=CANCELLED)
    Order.update(status=orders.SUCCESSFUL).where(Order.id == order.id).execute()
    assert reconciliation.reconcile(order.id) == reconciliation.CONFLICT

    page = check("GET /generic/conflicts/", operator, status=200)
    check("GET /generic/conflicts/", holding(operator, page), status=304)
    check("GET /generic/conflicts/", operator, query="?offset=-1", status=400)
    conflict_id = page.get_json()["objects"][0]["resource_pk"]
    one = check("GET /generic/conflicts/{conflict_id}/", operator, status=200, conflict_id=conflict_id)
    check(
        "GET /generic/conflicts/{conflict_id}/", holding(operator, one), status=304, conflict_id=conflict_id
    )
    check("GET /generic/conflicts/{conflict_id}/", operator, status=404, conflict_id=999_999)


def test_the_creating_calls_take_an_idempotency_key_and_the_pin_checks_do_not(document):
    def takes_a_key(path):
        post = operation(document, "POST", path)
        return (
            any(p["name"] == "Idempotency-Key" for p in post.get("parameters", []))
            and "422" in post["responses"]
        )

    creates = ["/generic/buyer/", "/generic/seller/", "/generic/product/", "/generic/transaction/"]
    checks = ["/generic/confirm_pin/", "/generic/verify_pin/", "/generic/reset_confirm_pin/"]
    assert [takes_a_key(path) for path in creates] == [True] * 4
    assert [takes_a_key(path) for path in checks] == [False] * 3
