"""The OpenAPI document is generated from the code, covers every route, and says what the API answers."""

import re

import jsonschema_rs
import pytest

from api.schemas import OrderCreate
from models import keys
from tests import factories
from tests.factories import auth

UNDOCUMENTED = {"static", "docs.openapi_json", "docs.docs"}  # the description itself


def is_json_api(endpoint: str) -> bool:
    """The dashboard's pages are HTML for people, not part of the JSON API the document describes."""
    return endpoint not in UNDOCUMENTED and not endpoint.startswith("dashboard.")


@pytest.fixture
def document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def operation(document, method: str, path: str) -> dict:
    return document["paths"][path][method.lower()]


def assert_documented(document, method: str, path: str, response) -> None:
    """The response's status is documented for the operation, and its body matches the schema (or it has
    none, as documented)."""
    responses = operation(document, method, path)["responses"]
    documented = responses.get(str(response.status_code))
    assert documented is not None, f"{method} {path} answered an undocumented {response.status_code}"
    if "content" not in documented:
        assert response.get_data() == b"", f"{method} {path} {response.status_code} has a body"
        return
    schema = documented["content"]["application/json"]["schema"]
    validator = jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]})
    errors = [error.message for error in validator.iter_errors(response.get_json())]
    assert errors == [], f"{method} {path} {response.status_code}: {errors}"


def test_every_route_is_documented(app, document):
    rules = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))  # /a/<int:a_id> -> /a/{a_id}
        for rule in app.url_map.iter_rules()
        if is_json_api(rule.endpoint)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}

    assert document["openapi"].startswith("3.1")
    assert rules == documented


def test_request_bodies_are_the_schemas_that_validate_them(document):
    body = operation(document, "POST", "/orders")["requestBody"]["content"]["application/json"]["schema"]

    assert body == {"$ref": "#/components/schemas/OrderCreate"}
    generated = OrderCreate.model_json_schema(ref_template="#/components/schemas/{model}")
    assert document["components"]["schemas"]["OrderCreate"] == generated


def test_paths_parameters_keys_and_security_are_described(document):
    delivery = operation(document, "GET", "/deliveries/{delivery_id}")
    place = operation(document, "POST", "/orders")
    listing = operation(document, "GET", "/orders")

    assert delivery["parameters"][0] == {
        "name": "delivery_id", "in": "path", "required": True,
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
    }  # fmt: skip
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in place["parameters"])
    assert {"limit", "starting_after", "status", "prod_id", "tpp_user_id"} == {
        p["name"] for p in listing["parameters"]
    }
    assert "Roles: operator, marketplace." in place["description"]
    assert operation(document, "GET", "/health")["security"] == []
    assert document["security"] == [{"bearer": []}]


PRODUCT = {"name": "Fibre", "description": "Fast", "product_type": "utilities_broadband"}
PRICE = {"name": "Monthly", "currency": "GBP", "amount": 3999}
USER = {"first_name": "Lisa", "last_name": "N", "email": "lisa@example.com", "date_of_birth": "1990-01-02"}
NEED_MORE = {"status": "Need_more_info", "output": {"required_fields": "installation_date"}}


def test_real_responses_match_the_document(client, document):
    operator = auth(factories.api_key(keys.OPERATOR))
    marketplace = auth(factories.api_key(keys.MARKETPLACE))
    ids: dict[str, str] = {}

    def check(route: str, headers, json=None, query: str = "") -> dict:
        method, template = route.split(" ")
        response = client.open(template.format(**ids) + query, method=method, headers=headers, json=json)
        assert_documented(document, method, template, response)
        return response.get_json()

    partner = check("POST /partners", operator, {"name": "Acme", "webhook_url": "https://acme.example/a"})
    acme = auth(partner["api_key"])
    ids["partner_id"] = partner["id"]
    ids["prod_id"] = check("POST /products", acme, PRODUCT)["id"]
    ids["price_id"] = check("POST /products/{prod_id}/pricing", acme, PRICE)["id"]
    ids["tpp_user_id"] = check("POST /users", marketplace, USER)["id"]
    order = {"prod_id": ids["prod_id"], "pricing_id": ids["price_id"], "tpp_user_id": ids["tpp_user_id"]}
    ids["order_id"] = check("POST /orders", marketplace, order)["id"]
    check("POST /orders/{order_id}", acme, NEED_MORE)
    check("PATCH /orders/{order_id}", marketplace, {"input": {"installation_date": "2027-01-01"}})
    check("GET /orders", marketplace, query="?limit=5")
    check("GET /orders/{order_id}", acme)
    check("GET /products", marketplace, query="?enabled=true")
    check("GET /products/{prod_id}", marketplace)
    check("PATCH /products/{prod_id}", acme, {"meta": {"speed": "500"}})
    check("GET /products/{prod_id}/pricing", marketplace)
    check("GET /products/{prod_id}/pricing/{price_id}", marketplace)
    check("GET /users/{tpp_user_id}", acme)
    check("GET /partners", operator)
    check("GET /partners/{partner_id}", acme)
    check("PATCH /partners/{partner_id}", acme, {"webhook_url": "https://acme.example/b"})
    check("POST /partners/{partner_id}/secret/rotate", acme)
    check("POST /partners/{partner_id}/endpoint/enable", operator)
    ids["delivery_id"] = check("GET /deliveries", operator, query=f"?partner_id={partner['id']}")["data"][0][
        "id"
    ]
    check("GET /deliveries/{delivery_id}", acme)
    check("POST /deliveries/requeue", operator, {"dry_run": True})
    check("GET /health/ready", {})
    # Refusals are documented too, in the error envelope.
    check("POST /orders", marketplace, {"prod_id": ids["prod_id"]})
    check("POST /orders/{order_id}", acme, {"status": "Done"})
    check("GET /orders", marketplace, query="?limit=0")
    check("GET /partners", marketplace)
    ids["order_id"] = "po_nothing"
    check("GET /orders/{order_id}", marketplace)


def test_the_docs_page_is_self_contained_and_lists_every_operation(client, document):
    page = client.get("/docs")

    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    for path in document["paths"]:
        assert f"<code>{path}</code>" in html
    assert 'src="http' not in html and 'href="http' not in html and "<script" not in html
