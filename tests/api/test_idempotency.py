import threading
from datetime import timedelta

import pytest

from models import idempotency, keys, orders
from models.base import utcnow
from models.db import close_connection, db
from models.deliveries import Delivery
from models.idempotency import IdempotencyKey, purge_expired
from tests import factories
from tests.conftest import SERVICE_TIER
from tests.factories import auth


@pytest.fixture
def marketplace():
    return auth(factories.api_key(keys.MARKETPLACE))


@pytest.fixture
def order_body():
    price = factories.price(factories.product(factories.partner()))
    return {"prod_id": price.product_id, "pricing_id": price.id, "tpp_user_id": factories.user().id}


def with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def test_a_retried_order_is_placed_once_and_the_first_response_replayed(client, marketplace, order_body):
    first = client.post("/orders", json=order_body, headers=with_key(marketplace, "order-1"))
    retry = client.post("/orders", json=order_body, headers=with_key(marketplace, "order-1"))

    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert orders.Order.select().count() == 1 and Delivery.select().count() == 1


def test_the_order_placed_under_a_key_still_reaches_the_partner(client, marketplace, receiver):
    price = factories.price(factories.product(factories.partner(webhook_url=receiver.url)))
    body = {"prod_id": price.product_id, "pricing_id": price.id, "tpp_user_id": factories.user().id}

    placed = client.post("/orders", json=body, headers=with_key(marketplace, "order-2"))

    (webhook,) = receiver.wait_for(1)
    assert placed.status_code == 201 and placed.get_json()["id"] in webhook.body.decode()


def test_the_same_key_with_another_body_or_path_is_refused(client, marketplace, order_body):
    client.post("/orders", json=order_body, headers=with_key(marketplace, "order-3"))

    other_body = client.post(
        "/orders", json={**order_body, "input": {"a": "b"}}, headers=with_key(marketplace, "order-3")
    )
    other_path = client.post(
        "/users",
        json={"first_name": "A", "last_name": "B", "email": "a@example.com"},
        headers=with_key(marketplace, "order-3"),
    )

    for refused in (other_body, other_path):
        assert refused.status_code == 422
        assert refused.get_json()["error"]["code"] == "idempotency_key_reused"
    assert orders.Order.select().count() == 1


def test_the_same_body_serialised_differently_is_the_same_request(client, marketplace, order_body):
    import json

    compact = json.dumps(order_body, separators=(",", ":"))
    spaced = json.dumps(dict(reversed(order_body.items())), indent=2)
    first = client.post("/orders", data=compact, headers=with_key(marketplace, "order-4"))
    retry = client.post("/orders", data=spaced, headers=with_key(marketplace, "order-4"))

    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.get_json()["id"] == first.get_json()["id"]


def test_keys_belong_to_the_api_key_that_sent_them(client, marketplace, order_body):
    another_marketplace = auth(factories.api_key(keys.MARKETPLACE))

    mine = client.post("/orders", json=order_body, headers=with_key(marketplace, "shared"))
    theirs = client.post("/orders", json=order_body, headers=with_key(another_marketplace, "shared"))

    assert mine.status_code == theirs.status_code == 201
    assert mine.get_json()["id"] != theirs.get_json()["id"]


def test_a_refusal_is_replayed_but_an_invalid_request_or_a_conflict_is_not_kept(
    client, marketplace, order_body
):
    missing = {**order_body, "tpp_user_id": "tus_nobody"}
    assert client.post("/orders", json=missing, headers=with_key(marketplace, "gone")).status_code == 404
    replayed = client.post("/orders", json=missing, headers=with_key(marketplace, "gone"))
    assert replayed.status_code == 404 and replayed.headers["Idempotent-Replayed"] == "true"

    invalid = {**order_body, "input": "not a map"}
    assert client.post("/orders", json=invalid, headers=with_key(marketplace, "bad")).status_code == 400
    corrected = client.post("/orders", json=order_body, headers=with_key(marketplace, "bad"))
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected.headers

    product = orders.Price.get_by_id(order_body["pricing_id"]).product
    product.enabled = False
    product.save()
    conflict = client.post("/orders", json=order_body, headers=with_key(marketplace, "later"))
    product.enabled = True
    product.save()
    retry = client.post("/orders", json=order_body, headers=with_key(marketplace, "later"))

    assert conflict.status_code == 409 and retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers


def test_a_key_is_forgotten_after_24_hours_and_purged(client, marketplace, order_body):
    client.post("/orders", json=order_body, headers=with_key(marketplace, "old"))
    IdempotencyKey.update(created_at=utcnow() - timedelta(hours=25)).execute()

    again = client.post("/orders", json=order_body, headers=with_key(marketplace, "old"))
    client.post("/orders", json=order_body, headers=with_key(marketplace, "new"))
    IdempotencyKey.update(created_at=utcnow() - timedelta(hours=25)).where(
        IdempotencyKey.key == "new"
    ).execute()
    purged = purge_expired(timedelta(hours=24))

    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert orders.Order.select().count() == 3
    assert purged == 1 and [row.key for row in IdempotencyKey.select()] == ["old"]


def test_one_purge_takes_every_expired_key_however_many_batches_they_fill():
    expired = utcnow() - timedelta(hours=25)
    IdempotencyKey.insert_many(
        [
            {
                "key_id": "k",
                "key": f"key-{n}",
                "fingerprint": "f",
                "status_code": 201,
                "response_body": "",
                "created_at": expired,
            }
            for n in range(25)
        ]
    ).execute()

    purged = purge_expired(timedelta(hours=24), batch=10)

    assert purged == 25 and IdempotencyKey.select().count() == 0


def test_a_rotated_secret_key_kept_as_a_fallback_still_replays(make_app, marketplace, order_body):
    before = make_app(secret_key="before").test_client()
    first = before.post("/orders", json=order_body, headers=with_key(marketplace, "k1"))

    rotated = make_app(secret_key="after", secret_key_fallbacks=("before",)).test_client()
    replayed = rotated.post("/orders", json=order_body, headers=with_key(marketplace, "k1"))
    forgotten = make_app(secret_key="after").test_client()
    unreadable = forgotten.post("/orders", json=order_body, headers=with_key(marketplace, "k1"))

    assert replayed.status_code == 201 and replayed.get_json() == first.get_json()
    assert unreadable.status_code == 409
    assert unreadable.get_json()["error"]["code"] == "idempotency_key_unreadable"
    assert "may have taken effect" in unreadable.get_json()["error"]["message"]
    assert orders.Order.select().count() == 1


def test_a_malformed_key_is_refused(client, marketplace, order_body):
    response = client.post("/orders", json=order_body, headers=with_key(marketplace, "has spaces"))

    assert response.status_code == 400
    assert "Idempotency-Key" in response.get_json()["error"]["fields"]
    assert orders.Order.select().count() == 0


def test_a_new_partners_credentials_are_replayed_but_not_stored_in_clear(client):
    operator = auth(factories.api_key(keys.OPERATOR))
    body = {"name": "Acme", "webhook_url": "https://acme.example/hooks"}

    first = client.post("/partners", json=body, headers=with_key(operator, "acme")).get_json()
    retry = client.post("/partners", json=body, headers=with_key(operator, "acme")).get_json()

    assert retry["api_key"] == first["api_key"] and retry["webhook_secret"] == first["webhook_secret"]
    (stored,) = IdempotencyKey.select()
    assert (
        first["api_key"] not in stored.response_body and first["webhook_secret"] not in stored.response_body
    )


def test_concurrent_duplicates_place_one_order(app, marketplace, order_body):
    start = threading.Barrier(2)
    responses = []

    def place():
        start.wait()
        try:
            responses.append(
                app.test_client().post("/orders", json=order_body, headers=with_key(marketplace, "race"))
            )
        finally:
            close_connection()

    threads = [threading.Thread(target=place) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert orders.Order.select().count() == 1
    statuses = sorted(response.status_code for response in responses)
    # The loser either waited and got the replay, or was told the first is still in progress.
    assert statuses in ([201, 201], [201, 409])
    if statuses == [201, 409]:
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.get_json()["error"]["code"] == "idempotency_key_in_use"
    else:
        assert {r.get_json()["id"] for r in responses} == {orders.Order.get().id}


@pytest.mark.skipif(not SERVICE_TIER, reason="SQLite makes the second writer wait instead")
def test_a_key_whose_request_is_still_running_is_answered_409(client, marketplace, order_body):
    key_id = keys.authenticate(marketplace["Authorization"].split()[1]).id
    holding, release = threading.Event(), threading.Event()

    def first_request_in_progress():
        with db.connection_context(), db.atomic():
            assert idempotency.lock(key_id, "slow")
            holding.set()
            release.wait(10)

    first = threading.Thread(target=first_request_in_progress)
    first.start()
    holding.wait(10)
    try:
        response = client.post("/orders", json=order_body, headers=with_key(marketplace, "slow"))
    finally:
        release.set()
        first.join(10)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_key_in_use"
    assert orders.Order.select().count() == 0


def test_a_failure_after_the_order_is_written_rolls_it_back_with_the_key(
    client, marketplace, order_body, monkeypatch
):
    def crash(*args):
        raise RuntimeError("the process died between the order and its response")

    with monkeypatch.context() as patched:
        patched.setattr(idempotency, "record", crash)
        failed = client.post("/orders", json=order_body, headers=with_key(marketplace, "crash"))
    retry = client.post("/orders", json=order_body, headers=with_key(marketplace, "crash"))

    assert failed.status_code == 500
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert orders.Order.select().count() == 1 and Delivery.select().count() == 1
