"""An order's whole story in the logs: one request id from the API call to the webhook attempt, and not
one secret on the way."""

import json

from models import deliveries, keys
from models.deliveries import Delivery
from tests import factories
from tests.factories import auth
from tests.helpers import wait_until


def test_one_request_id_follows_an_order_and_no_secret_is_logged(client, receiver, log_lines):
    acme = factories.partner(webhook_url=receiver.url)
    price = factories.price(factories.product(acme))
    marketplace_key = factories.api_key(keys.MARKETPLACE)
    order_body = {
        "prod_id": price.product_id,
        "pricing_id": price.id,
        "tpp_user_id": factories.user().id,
        "input": {"installation_date": "2026-12-01", "pin": "4321"},
    }

    placed = client.post(
        "/orders", json=order_body, headers={**auth(marketplace_key), "X-Request-Id": "mkt-story-1"}
    )
    order_id = placed.get_json()["id"]
    (webhook,) = receiver.wait_for(1)
    wait_until(lambda: Delivery.get(Delivery.order == order_id).state == deliveries.SUCCEEDED)
    answered = client.post(
        f"/orders/{order_id}", json={"status": "Succesful", "output": {"ref": "A1"}}, headers=acme.headers
    )

    def attempt_logged():
        found = [d for d in log_lines.documents() if d.get("event") == "webhook.attempt"]
        return found[0] if found else None

    attempt = wait_until(attempt_logged)
    lines = log_lines.documents()
    assert placed.headers["X-Request-Id"] == "mkt-story-1"
    assert answered.status_code == 200 and answered.headers["X-Request-Id"] != "mkt-story-1"
    api_line = next(d for d in lines if d.get("event") == "http.request" and d["route"] == "/orders")
    placed_line = next(d for d in lines if d.get("event") == "order.status" and d["from_status"] is None)
    answer_line = next(d for d in lines if d.get("event") == "order.status" and d["status"] == "Succesful")
    assert api_line["request_id"] == placed_line["request_id"] == attempt["request_id"] == "mkt-story-1"
    assert answer_line["request_id"] == answered.headers["X-Request-Id"]
    assert attempt["order_id"] == order_id and attempt["webhook_id"] == webhook.headers["webhook-id"]
    assert attempt["status_code"] == 200 and attempt["outcome"] == "succeeded"
    assert isinstance(attempt["delivery_id"], int) and attempt["duration_ms"] >= 0

    text = "\n".join(json.dumps(line) for line in lines)
    signature = webhook.headers["webhook-signature"].split(",", 1)[1]
    for secret in (marketplace_key, acme.api_key, acme.secret, signature, "4321"):
        assert secret not in text
