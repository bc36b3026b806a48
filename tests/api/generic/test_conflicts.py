import json

from models import keys, orders, reconciliation, transactions
from models.transactions import CANCELLED
from tests import factories
from tests.factories import auth
from tests.helpers import wait_until


def cancelled_then_settled(client, marketplace):
    """The buyer cancels the payment; the partner then settles the order anyway."""
    order = factories.order()
    transaction = factories.transaction(for_order=order)
    cancel = client.patch(
        f"/generic/transaction/{transaction.id}/", json={"status": CANCELLED}, headers=marketplace
    )
    assert cancel.status_code == 202
    partner = auth(keys.issue_key(keys.PARTNER, order.partner)[1])
    answer = client.post(f"/orders/{order.id}", json={"status": "Succesful", "output": {}}, headers=partner)
    assert answer.status_code == 200
    return order, transaction


def test_a_conflict_is_recorded_once_never_overwritten_and_listed_for_operators(
    client, marketplace, operator
):
    order, transaction = cancelled_then_settled(client, marketplace)

    wait_until(lambda: reconciliation.ReconciliationConflict.select().exists())
    reconciliation.reconcile(order.id)  # found again: still one record
    listed = client.get("/generic/conflicts/", headers=operator).get_json()

    (conflict,) = listed["objects"]
    assert conflict["transaction"] == f"/generic/transaction/{transaction.id}/"
    assert (conflict["transaction_status"], conflict["order"], conflict["order_status"]) == (
        CANCELLED,
        order.id,
        orders.SUCCESSFUL,
    )
    assert "Cancelled" in conflict["reason"] and order.id in conflict["reason"]
    assert listed["meta"]["total_count"] == 1
    assert client.get(conflict["resource_uri"], headers=operator).get_json() == conflict
    assert transactions.get_transaction(transaction.id).status == CANCELLED


def test_only_operators_see_conflicts(client, marketplace):
    assert client.get("/generic/conflicts/", headers=marketplace).status_code == 403


def test_the_cli_prints_the_conflicts_as_json(app, client, marketplace):
    order, transaction = cancelled_then_settled(client, marketplace)
    wait_until(lambda: reconciliation.ReconciliationConflict.select().exists())

    result = app.test_cli_runner().invoke(args=["reconciliation", "conflicts"])

    assert result.exit_code == 0, result.output
    (conflict,) = json.loads(result.output)["objects"]
    assert (conflict["order"], conflict["transaction"]) == (
        order.id,
        f"/generic/transaction/{transaction.id}/",
    )
