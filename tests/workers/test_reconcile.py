import threading
from datetime import timedelta

import pytest
import redis

from models import keys, orders, reconciliation, transactions
from models.base import utcnow
from models.db import close_connection
from models.reconciliation import ReconciliationConflict
from models.transactions import CANCELLED, CHECKED, COMPLETED, FAILED, PENDING, RECEIVED
from scripts import clock
from tests import factories
from tests.factories import auth
from tests.helpers import wait_until
from workers import dispatch, reconcile


@pytest.fixture
def placed():
    """A Pending order and the Pending payment transaction placing it opened."""
    order = factories.order()
    return order, factories.transaction(for_order=order)


def settle(order, status: str) -> None:
    """The partner's answer as the API writes it, without the message that follows."""
    orders.Order.update(status=status).where(orders.Order.id == order.id).execute()
    reconciliation.request(order.id)


def status_of(transaction) -> int:
    return transactions.get_transaction(transaction.id).status


def answer(client, order, status: str):
    partner = keys.issue_key(keys.PARTNER, order.partner)[1]
    response = client.post(
        f"/orders/{order.id}", json={"status": status, "output": {}}, headers=auth(partner)
    )
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("answered, becomes", [("Succesful", COMPLETED), ("Failed", FAILED)])
def test_the_partners_answer_settles_the_transaction(client, placed, answered, becomes):
    order, transaction = placed

    answer(client, order, answered)

    wait_until(lambda: status_of(transaction) == becomes)
    assert transactions.get_transaction(transaction.id).reconcile_requested_at is None


@pytest.mark.parametrize("order_status", [orders.PENDING, orders.NEED_MORE_INFO])
def test_an_order_without_a_verdict_leaves_the_transaction_alone(placed, order_status):
    order, transaction = placed
    settle(order, order_status)

    outcome = reconciliation.reconcile(order.id)

    assert outcome == reconciliation.UNCHANGED
    assert status_of(transaction) == PENDING
    assert transactions.get_transaction(transaction.id).reconcile_requested_at is None


@pytest.mark.parametrize(
    "before, order_status, after",
    [
        (CHECKED, orders.SUCCESSFUL, COMPLETED),
        (RECEIVED, orders.SUCCESSFUL, COMPLETED),
        (RECEIVED, orders.FAILED, FAILED),
        (PENDING, orders.FAILED, FAILED),
    ],
)
def test_a_transaction_moves_as_the_transition_rules_allow(before, order_status, after):
    order = factories.order()
    transaction = factories.transaction(for_order=order, status=before)
    settle(order, order_status)

    assert reconciliation.reconcile(order.id) == reconciliation.CHANGED
    assert status_of(transaction) == after


def test_running_it_twice_changes_nothing_the_second_time(placed):
    order, transaction = placed
    settle(order, orders.SUCCESSFUL)

    first = reconciliation.reconcile(order.id)
    after_first = transactions.get_transaction(transaction.id)
    second = reconciliation.reconcile(order.id)

    assert (first, second) == (reconciliation.CHANGED, reconciliation.UNCHANGED)
    after_second = transactions.get_transaction(transaction.id)
    assert after_second.modified_at == after_first.modified_at and after_second.status == COMPLETED


def test_two_workers_at_once_change_it_once(placed):
    order, transaction = placed
    settle(order, orders.SUCCESSFUL)
    barrier = threading.Barrier(2)
    outcomes = []

    def worker():
        barrier.wait()
        try:
            outcomes.append(reconciliation.reconcile(order.id))
        finally:
            close_connection()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [reconciliation.CHANGED, reconciliation.UNCHANGED]
    assert status_of(transaction) == COMPLETED


def test_a_cancelled_transaction_agrees_with_a_failed_order():
    order = factories.order()
    transaction = factories.transaction(for_order=order, status=CANCELLED)
    settle(order, orders.FAILED)

    assert reconciliation.reconcile(order.id) == reconciliation.UNCHANGED
    assert status_of(transaction) == CANCELLED
    assert not ReconciliationConflict.select().exists()
    assert transactions.get_transaction(transaction.id).reconcile_requested_at is None


@pytest.mark.parametrize(
    "final, order_status",
    [(CANCELLED, orders.SUCCESSFUL), (FAILED, orders.SUCCESSFUL), (COMPLETED, orders.FAILED)],
)
def test_a_transaction_the_order_contradicts_is_recorded_once_and_never_overwritten(final, order_status):
    order = factories.order()
    transaction = factories.transaction(for_order=order, status=final)
    settle(order, order_status)

    outcomes = [reconciliation.reconcile(order.id), reconciliation.reconcile(order.id)]

    assert outcomes == [reconciliation.CONFLICT, reconciliation.CONFLICT]
    assert status_of(transaction) == final
    (conflict,) = ReconciliationConflict.select()
    assert (conflict.transaction_id, conflict.order_id) == (transaction.id, order.id)
    assert (conflict.transaction_status, conflict.order_status) == (final, order_status)
    assert transactions.get_transaction(transaction.id).reconcile_requested_at is None
    assert ("needs a refund" in conflict.reason) == (final == COMPLETED)


def test_an_order_placed_before_payments_has_no_transaction_to_reconcile():
    order = factories.order(status=orders.SUCCESSFUL)

    assert reconciliation.reconcile(order.id) == reconciliation.NO_TRANSACTION


def test_the_sweep_settles_what_a_lost_message_left_and_leaves_recent_requests_to_theirs():
    lost, recent = factories.order(), factories.order()
    lost_transaction = factories.transaction(for_order=lost)
    recent_transaction = factories.transaction(for_order=recent)
    for order in (lost, recent):
        orders.Order.update(status=orders.SUCCESSFUL).where(orders.Order.id == order.id).execute()
    reconciliation.request(lost.id, now=utcnow() - timedelta(minutes=5))
    reconciliation.request(recent.id)

    swept = reconcile.sweep(grace_seconds=60)

    assert swept == 1
    assert status_of(lost_transaction) == COMPLETED
    assert status_of(recent_transaction) == PENDING


def test_the_sweep_goes_through_every_batch():
    placed = [factories.order() for _ in range(5)]
    for order in placed:
        factories.transaction(for_order=order)
        settle(order, orders.FAILED)

    swept = reconcile.sweep(grace_seconds=0, batch=2)

    assert swept == 5
    assert {t.status for t in transactions.Transaction.select()} == {FAILED}


def test_when_the_broker_is_down_the_clocks_sweep_settles_the_answer(client, placed, monkeypatch):
    order, transaction = placed

    def broker_down(*args):
        raise redis.ConnectionError("broker down")

    with monkeypatch.context() as patched:
        patched.setattr(dispatch, "_send", broker_down)
        answer(client, order, "Succesful")
    assert status_of(transaction) == PENDING
    # Past the grace period, the clock's periodic job sweeps it up.
    transactions.Transaction.update(reconcile_requested_at=utcnow() - timedelta(minutes=5)).where(
        transactions.Transaction.id == transaction.id
    ).execute()
    stop = threading.Event()
    ticking = threading.Thread(
        target=clock.run, args=(stop, (clock.Job(reconcile.reconcile_transactions, 60),))
    )
    ticking.start()
    try:
        wait_until(lambda: status_of(transaction) == COMPLETED)
    finally:
        stop.set()
        ticking.join()


def test_the_clock_runs_the_sweep_every_minute():
    assert clock.Job(reconcile.reconcile_transactions, every_seconds=60) in clock.JOBS
