import uuid
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import orders, transactions
from models.currencies import MINOR_UNITS
from models.transactions import CANCELLED, CHECKED, COMPLETED, FAILED, PENDING, RECEIVED, Transaction
from tests import factories
from tests.helpers import wait_until

DOCUMENT_FIELDS = {
    "amount",
    "buyer",
    "created",
    "currency",
    "notes",
    "provider",
    "related",
    "relations",
    "resource_pk",
    "resource_uri",
    "seller_product",
    "status",
    "type",
    "uid_pay",
    "uid_support",
    "uuid",
}


def new_transaction(client, headers, **fields):
    body = {
        "amount": "0.62",
        "currency": "GBP",
        "provider": transactions.PROVIDER_BANGO,
        "seller_product": f"/generic/product/{factories.seller_product().id}/",
    }
    body.update(fields)
    return client.post("/generic/transaction/", json=body, headers=headers)


def listed(client, headers, query=""):
    response = client.get(f"/generic/transaction/{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_transaction_shows_every_field_of_the_documents_example(client, marketplace):
    transaction = factories.transaction(notes="", uid_pay="230450", uid_support="0")

    response = client.get(f"/generic/transaction/{transaction.id}/", headers=marketplace)

    assert response.status_code == 200
    shown = response.get_json()
    assert set(shown) == DOCUMENT_FIELDS
    assert shown == {
        "amount": "39.99",
        "buyer": None,
        "created": shown["created"],
        "currency": "GBP",
        "notes": "",
        "provider": 1,
        "related": None,
        "relations": [],
        "resource_pk": transaction.id,
        "resource_uri": f"/generic/transaction/{transaction.id}/",
        "seller_product": f"/generic/product/{transaction.seller_product_id}/",
        "status": 0,
        "type": 0,
        "uid_pay": "230450",
        "uid_support": "0",
        "uuid": transaction.uuid,
    }
    assert datetime.fromisoformat(shown["created"].replace("Z", "+00:00")).tzinfo is not None


@pytest.mark.parametrize(
    "currency, minor, shown", [("GBP", 3999, "39.99"), ("JPY", 3999, "3999"), ("BHD", 1234, "1.234")]
)
def test_an_orders_transaction_shows_the_price_as_a_decimal_string(
    client, marketplace, currency, minor, shown
):
    product = factories.product(factories.partner())
    price = factories.price(product, currency=currency, amount=minor)
    user = factories.user()

    order = client.post(
        "/orders",
        json={"prod_id": product.id, "pricing_id": price.id, "tpp_user_id": user.id},
        headers=marketplace,
    ).get_json()

    (transaction,) = listed(client, marketplace)["objects"]
    assert (transaction["amount"], transaction["currency"]) == (shown, currency)
    assert (transaction["status"], transaction["type"], transaction["provider"]) == (0, 0, 100)
    assert transaction["uid_pay"] == order["id"]
    buyer = client.get(transaction["buyer"], headers=marketplace).get_json()
    assert buyer["uuid"] == f"courier:{user.id}" and buyer["pin"] is False
    seller_product = client.get(transaction["seller_product"], headers=marketplace).get_json()
    assert seller_product["external_id"] == product.id


def test_transactions_are_listed_newest_first_and_filtered(client, marketplace):
    seller = factories.seller()
    oldest = factories.transaction(seller_product=factories.seller_product(seller))
    middle = factories.transaction(status=COMPLETED, uuid="webpay:d8d143f3")
    newest = factories.transaction(provider=transactions.PROVIDER_PAYPAL, status=COMPLETED)

    def pks(query=""):
        return [t["resource_pk"] for t in listed(client, marketplace, query)["objects"]]

    assert pks() == [newest.id, middle.id, oldest.id]
    assert pks("?uuid=webpay:d8d143f3") == [middle.id]
    assert pks("?provider=0") == [newest.id]
    assert pks("?status=1") == [newest.id, middle.id]
    assert pks(f"?seller={seller.id}") == [oldest.id]
    assert pks("?status=1&provider=1") == [middle.id]


@pytest.mark.parametrize(
    "query, field",
    [("?status=9", "status"), ("?status=done", "status"), ("?provider=7", "provider"),
     ("?seller=x", "seller"), ("?limit=0", "limit"), ("?limit=101", "limit"), ("?offset=-1", "offset"),
     ("?buyer=1", "buyer")],
)  # fmt: skip
def test_bad_query_parameters_are_refused_naming_them(client, marketplace, query, field):
    response = client.get(f"/generic/transaction/{query}", headers=marketplace)

    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]


def test_lists_page_by_limit_and_offset(client, marketplace):
    made = [factories.transaction() for _ in range(5)]

    page = listed(client, marketplace, "?status=0&limit=2&offset=2")

    assert [t["resource_pk"] for t in page["objects"]] == [made[2].id, made[1].id]
    assert page["meta"] == {
        "limit": 2,
        "offset": 2,
        "total_count": 5,
        "next": "/generic/transaction/?status=0&limit=2&offset=4",
        "previous": "/generic/transaction/?status=0&limit=2&offset=0",
    }
    last = listed(client, marketplace, "?limit=2&offset=4")
    assert [t["resource_pk"] for t in last["objects"]] == [made[0].id]
    assert last["meta"]["next"] is None
    first = listed(client, marketplace)
    assert (first["meta"]["limit"], first["meta"]["offset"], first["meta"]["previous"]) == (20, 0, None)


def test_creating_a_transaction_gives_it_a_uuid_when_it_has_none(client, marketplace):
    response = new_transaction(client, marketplace)

    assert response.status_code == 201
    created = response.get_json()
    assert uuid.UUID(created["uuid"])
    assert (created["amount"], created["status"], created["type"]) == ("0.62", PENDING, transactions.PAYMENT)
    assert client.get(created["resource_uri"], headers=marketplace).get_json() == created


def test_a_refund_relates_to_its_payment(client, marketplace):
    payment = new_transaction(client, marketplace, uuid="webpay:payment").get_json()

    refund = new_transaction(
        client, marketplace, type=transactions.REFUND, related=payment["resource_uri"]
    ).get_json()

    assert refund["related"] == payment["resource_uri"]
    assert client.get(payment["resource_uri"], headers=marketplace).get_json()["relations"] == [
        refund["resource_uri"]
    ]
    assert listed(client, marketplace, "?uuid=webpay:payment")["objects"][0]["relations"] == [
        refund["resource_uri"]
    ]


def test_an_amount_is_refused_only_when_it_is_more_than_a_transaction_holds(client, marketplace):
    """ "999999999999999" CLF was a 500: in ten-thousandths, its minor units, it overflows 64 bits."""
    largest = new_transaction(client, marketplace, amount="922337203685477.5807", currency="CLF")
    too_large = new_transaction(client, marketplace, amount="922337203685477.5808", currency="CLF")

    assert largest.status_code == 201 and largest.get_json()["amount"] == "922337203685477.5807"
    assert too_large.status_code == 400
    assert too_large.get_json()["error"]["fields"] == {"amount": "is too large"}
    assert Transaction.select().count() == 1


@settings(max_examples=100, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    amount=st.from_regex(r"\A[0-9]{1,15}(\.[0-9]{1,4})?\Z"),
    currency=st.sampled_from(sorted(MINOR_UNITS)),
)
def test_any_amount_in_any_currency_is_shown_back_as_sent_or_refused(client, marketplace, amount, currency):
    """Whatever the document lets through, never a 500. Schemathesis seldom gets this far: the product
    URIs it makes up rarely point at a product."""
    response = new_transaction(client, marketplace, amount=amount, currency=currency)

    assert response.status_code in (201, 400), response.get_data(as_text=True)
    if response.status_code == 201:
        assert Decimal(response.get_json()["amount"]) == Decimal(amount)
    else:
        assert list(response.get_json()["error"]["fields"]) == ["amount"]


@pytest.mark.parametrize(
    "fields, status, field",
    [
        ({"amount": "39.999"}, 400, "amount"),
        ({"amount": 0.62}, 400, "amount"),
        ({"amount": "-1"}, 400, "amount"),
        ({"currency": "XXX"}, 400, "currency"),
        ({"provider": 7}, 400, "provider"),
        ({"status": 6}, 400, "status"),
        ({"type": 3}, 400, "type"),
        ({"seller_product": "/generic/product/999/"}, 404, "seller_product"),
        ({"seller_product": "449"}, 400, "seller_product"),
        ({"buyer": "/generic/buyer/999/"}, 404, "buyer"),
        ({"related": "/generic/transaction/999/"}, 404, "related"),
        ({"relations": []}, 400, "relations"),
    ],
)
def test_a_bad_transaction_is_refused_naming_the_field_and_nothing_is_written(
    client, marketplace, fields, status, field
):
    response = new_transaction(client, marketplace, **fields)

    assert response.status_code == status
    assert field in response.get_json()["error"]["fields"]
    assert Transaction.select().count() == 0


def test_a_transaction_uuid_is_unique(client, marketplace):
    new_transaction(client, marketplace, uuid="webpay:once")

    again = new_transaction(client, marketplace, uuid="webpay:once")

    assert again.status_code == 409
    assert again.get_json()["error"]["fields"] == {"uuid": "is already taken"}
    assert Transaction.select().count() == 1


@pytest.mark.parametrize(
    "before, after",
    [(PENDING, CHECKED), (PENDING, CANCELLED), (CHECKED, COMPLETED), (CHECKED, FAILED), (RECEIVED, COMPLETED),
     (RECEIVED, FAILED), (COMPLETED, PENDING), (FAILED, FAILED)],
)  # fmt: skip
def test_an_allowed_status_change_is_made_and_answers_nothing(client, marketplace, before, after):
    transaction = factories.transaction(status=before)

    response = client.patch(
        f"/generic/transaction/{transaction.id}/", json={"status": after}, headers=marketplace
    )

    assert response.status_code == 202 and response.get_data() == b""
    assert transactions.get_transaction(transaction.id).status == after


@pytest.mark.parametrize(
    "before, after, reason",
    [(FAILED, PENDING, "Failed is final"), (CANCELLED, COMPLETED, "Cancelled is final"),
     (CHECKED, PENDING, "Checked can only become Completed or Failed"),
     (RECEIVED, CANCELLED, "Received can only become Completed or Failed")],
)  # fmt: skip
def test_a_forbidden_status_change_is_a_400_that_says_why(client, marketplace, before, after, reason):
    transaction = factories.transaction(status=before)

    response = client.patch(
        f"/generic/transaction/{transaction.id}/",
        json={"status": after, "notes": "tried"},
        headers=marketplace,
    )

    assert response.status_code == 400
    assert reason in response.get_json()["error"]["fields"]["status"]
    unchanged = transactions.get_transaction(transaction.id)
    assert (unchanged.status, unchanged.notes) == (before, "")


def test_notes_and_uid_pay_may_change(client, marketplace):
    transaction = factories.transaction(status=FAILED)

    response = client.patch(
        f"/generic/transaction/{transaction.id}/",
        json={"notes": "refunded by hand", "uid_pay": "230451"},
        headers=marketplace,
    )

    assert response.status_code == 202
    changed = transactions.get_transaction(transaction.id)
    assert (changed.notes, changed.uid_pay, changed.status) == ("refunded by hand", "230451", FAILED)


@pytest.mark.parametrize(
    "field, value",
    [("amount", "1.00"), ("uuid", "x"), ("currency", "EUR"), ("type", 1), ("uid_support", "1")],
)
def test_only_status_notes_and_uid_pay_may_change(client, marketplace, field, value):
    transaction = factories.transaction()

    response = client.patch(
        f"/generic/transaction/{transaction.id}/", json={field: value, "notes": "tried"}, headers=marketplace
    )

    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {
        field: "cannot be changed: only status, notes and uid_pay can"
    }
    assert transactions.get_transaction(transaction.id).__data__ == transaction.__data__


def test_an_unknown_transaction_is_a_404(client, marketplace):
    assert client.get("/generic/transaction/2977/", headers=marketplace).status_code == 404
    assert (
        client.patch("/generic/transaction/2977/", json={"notes": "x"}, headers=marketplace).status_code
        == 404
    )


def test_an_orders_transaction_patched_away_from_the_orders_verdict_is_brought_back(client, marketplace):
    order = factories.order(status=orders.SUCCESSFUL)
    transaction = factories.transaction(for_order=order, status=COMPLETED)

    response = client.patch(
        f"/generic/transaction/{transaction.id}/", json={"status": PENDING}, headers=marketplace
    )

    assert response.status_code == 202
    wait_until(lambda: transactions.get_transaction(transaction.id).status == COMPLETED)
