"""``Idempotency-Key`` on the generic API's creating calls; the PIN checks take none (api/generic/pins.py)."""

import hashlib
import json

import pytest

from models.buyers import Buyer
from models.idempotency import IdempotencyKey
from models.sellers import Seller, SellerProduct
from models.transactions import PROVIDER_BANGO, Transaction
from tests import factories


def keyed(headers, key):
    return {**headers, "Idempotency-Key": key}


def buyer():
    return {"uuid": "marketplace:keyed", "pin": "8472"}


def seller():
    return {"uuid": "marketplace:keyed"}


def seller_product():
    return {"seller": f"/generic/seller/{factories.seller().id}/", "external_id": "app-keyed"}


def transaction():
    # No uuid: without a key, a retry would make a second transaction with a uuid of its own.
    return {
        "amount": "0.62",
        "currency": "GBP",
        "provider": PROVIDER_BANGO,
        "seller_product": f"/generic/product/{factories.seller_product().id}/",
    }


CREATES = [
    pytest.param("/generic/buyer/", Buyer, buyer, "uuid", id="buyer"),
    pytest.param("/generic/seller/", Seller, seller, "uuid", id="seller"),
    pytest.param("/generic/product/", SellerProduct, seller_product, "external_id", id="product"),
    pytest.param("/generic/transaction/", Transaction, transaction, "notes", id="transaction"),
]


@pytest.mark.parametrize("path, model, make_body, field", CREATES)
def test_a_retried_create_is_made_once_and_its_answer_replayed(
    client, marketplace, path, model, make_body, field
):
    body = make_body()
    before = model.select().count()

    first = client.post(path, json=body, headers=keyed(marketplace, "create-1"))
    retry = client.post(path, json=body, headers=keyed(marketplace, "create-1"))

    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert model.select().count() == before + 1


@pytest.mark.parametrize("path, model, make_body, field", CREATES)
def test_the_same_key_with_another_body_is_refused(client, marketplace, path, model, make_body, field):
    body = make_body()
    client.post(path, json=body, headers=keyed(marketplace, "create-2"))
    after_first = model.select().count()

    refused = client.post(
        path, json={**body, field: "something else"}, headers=keyed(marketplace, "create-2")
    )

    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "idempotency_key_reused"
    assert model.select().count() == after_first


def test_a_pin_check_sent_again_under_one_key_is_checked_and_counted_again(client, marketplace):
    buyer = factories.buyer(pin="8472", confirmed=True)
    wrong = {"uuid": buyer.uuid, "pin": "1111"}

    for _ in range(2):
        answer = client.post("/generic/verify_pin/", json=wrong, headers=keyed(marketplace, "pin-1"))
        assert answer.status_code == 201 and "Idempotent-Replayed" not in answer.headers

    assert Buyer.get_by_id(buyer.id).pin_failures == 2


def test_a_buyer_made_under_a_key_leaves_no_digest_its_pin_could_be_read_back_from(client, marketplace):
    created = client.post("/generic/buyer/", json=buyer(), headers=keyed(marketplace, "pin-made"))
    assert created.status_code == 201
    (record,) = IdempotencyKey.select()

    def plain_digest(pin: str) -> str:  # as the record was kept before it was keyed
        body = json.dumps({**buyer(), "pin": pin}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(f"POST\n/generic/buyer/\n{body}".encode()).hexdigest()

    assert not any(plain_digest(f"{pin:04d}") == record.fingerprint for pin in range(10_000))
    replayed = client.post("/generic/buyer/", json=buyer(), headers=keyed(marketplace, "pin-made"))
    assert replayed.headers["Idempotent-Replayed"] == "true"
