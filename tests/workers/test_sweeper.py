"""The database is the truth: what the broker loses, the sweeper sends again."""

from datetime import timedelta

import pytest

from models import attempts, deliveries, keys, partners, redelivery
from models.base import utcnow
from models.db import db
from models.deliveries import Delivery
from tests import factories
from tests.conftest import SERVICE_TIER
from tests.factories import auth
from tests.helpers import wait_until
from tests.receiver import Respond
from workers.sweeper import sweep_deliveries


def test_emptying_the_broker_mid_run_loses_nothing(client, receiver, broker):
    receiver.always(Respond(200, delay=0.05))  # slow enough that most messages are still queued
    acme = factories.partner(webhook_url=receiver.url)
    price = factories.price(factories.product(acme))
    user = factories.user()
    marketplace = auth(factories.api_key(keys.MARKETPLACE))
    body = {"prod_id": price.product_id, "pricing_id": price.id, "tpp_user_id": user.id}
    for _ in range(40):
        assert client.post("/orders", json=body, headers=marketplace).status_code == 201

    broker.flush_all()  # Redis loses what it held, or the in-memory broker is emptied
    assert Delivery.select().where(Delivery.state != deliveries.SUCCEEDED).count() > 0

    def sweep_and_count_delivered():
        sweep_deliveries.send(0)
        return Delivery.select().where(Delivery.state == deliveries.SUCCEEDED).count() == 40

    wait_until(sweep_and_count_delivered, timeout=30, interval=0.5)
    received_ids = {request.headers["webhook-id"] for request in receiver.received}
    assert received_ids == {row.webhook_id for row in Delivery.select()}


def test_a_delivery_in_flight_under_a_live_lease_is_not_swept():
    acme = factories.partner()
    in_flight = deliveries.create_delivery(acme.id, "order.created", {"id": "po_1"})
    abandoned = deliveries.create_delivery(acme.id, "order.created", {"id": "po_2"})
    attempts.claim(in_flight.id, lease_seconds=60)
    attempts.claim(abandoned.id, lease_seconds=-1)  # its worker died: the lease has lapsed

    swept = redelivery.overdue(grace_seconds=0)

    assert abandoned.id in swept and in_flight.id not in swept


def test_a_delivery_due_within_the_grace_period_is_left_to_its_own_message():
    acme = factories.partner()
    just_due = deliveries.create_delivery(acme.id, "order.created", {"id": "po_1"})
    long_due = deliveries.create_delivery(acme.id, "order.created", {"id": "po_2"})
    Delivery.update(next_attempt_at=utcnow() - timedelta(minutes=5)).where(
        Delivery.id == long_due.id
    ).execute()

    swept = redelivery.overdue(grace_seconds=60)

    assert long_due.id in swept and just_due.id not in swept


def test_a_delivery_held_just_as_its_endpoint_was_enabled_is_released_by_the_sweeper(receiver):
    acme = factories.partner(webhook_url=receiver.url)
    partners.disable_endpoint(acme.id, "410 Gone")
    row = deliveries.create_delivery(acme.id, "order.created", {"id": "po_1"})
    claim = attempts.claim(row.id, lease_seconds=60)  # a worker sees the endpoint disabled
    assert claim.endpoint_disabled
    partners.enable_endpoint(acme.id)  # an operator enables it meanwhile ...
    assert redelivery.release_held(acme.id) == []  # ... and the release finds nothing held yet
    assert attempts.hold(claim)  # then the worker holds it: nothing would wake it again

    sweep_deliveries(grace_seconds=60)

    (webhook,) = receiver.wait_for(1)
    assert webhook.headers["webhook-id"] == row.webhook_id


def test_a_dead_workers_deliveries_are_swept_even_behind_a_backlog_longer_than_a_batch():
    acme = factories.partner()
    backlog = [deliveries.create_delivery(acme.id, "order.created", {"id": f"po_{n}"}) for n in range(3)]
    abandoned = deliveries.create_delivery(acme.id, "order.created", {"id": "po_abandoned"})
    attempts.claim(abandoned.id, lease_seconds=-1)

    swept = redelivery.overdue(grace_seconds=0, limit=2)

    assert len(swept) == 2
    assert abandoned.id in swept and set(swept) - {abandoned.id} <= {row.id for row in backlog}


@pytest.mark.skipif(not SERVICE_TIER, reason="the plan that matters is PostgreSQL's")
def test_each_sweeper_query_is_answered_by_a_plain_scan_of_its_own_partial_index():
    # Plain index scans, never bitmap scans: only a plain scan marks the dead entries a drain leaves
    # behind, so that the next sweep skips them. (Sequential scans are off only because a test's table
    # is small enough for one to win.)
    db.execute_sql("SET enable_seqscan = off")
    try:
        plans = [
            "\n".join(row[0] for row in db.execute_sql("EXPLAIN " + sql, params))
            for sql, params in (
                query.sql()
                for query in (*redelivery.overdue_queries(grace_seconds=60), redelivery.stranded_query())
            )
        ]
    finally:
        db.execute_sql("RESET enable_seqscan")

    assert "Index Scan using delivery_due" in plans[0], plans[0]
    assert "Index Scan using delivery_lapsing" in plans[1], plans[1]
    assert "Index Scan using delivery_held" in plans[2], plans[2]
    assert not any("Bitmap" in plan for plan in plans), plans
