import json
import threading
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from models import attempts, deliveries, keys
from models.base import utcnow
from models.db import close_connection
from models.deliveries import Attempt, Delivery
from tests import factories
from tests.factories import auth
from tests.helpers import wait_until
from tests.receiver import Reset, Respond, Stall
from workers import delivery

FIVE_DAYS = timedelta(days=5)


@pytest.fixture
def marketplace():
    return auth(factories.api_key(keys.MARKETPLACE))


def place_order(client, marketplace, partner, **input_fields):
    product = factories.product(partner)
    price = factories.price(product)
    response = client.post(
        "/orders",
        json={
            "prod_id": product.id,
            "pricing_id": price.id,
            "tpp_user_id": factories.user().id,
            "input": input_fields or {"first_name": "Lisa"},
        },
        headers=marketplace,
    )
    assert response.status_code == 201
    return response.get_json()


def delivery_of(order_id: str) -> Delivery:
    return Delivery.get(Delivery.order == order_id)


def attempts_of(order_id: str) -> list[Attempt]:
    return list(Attempt.select().join(Delivery).where(Delivery.order == order_id).order_by(Attempt.id))


def settled(order_id: str, state: str):
    return lambda: delivery_of(order_id).state == state


def test_the_order_reaches_the_partner_signed_by_the_standard_webhooks_verifier(
    client, marketplace, receiver
):
    acme = factories.partner(webhook_url=receiver.url)

    order = place_order(client, marketplace, acme)

    (request,) = receiver.wait_for(1)
    payload = Webhook(acme.secret).verify(request.body, request.headers)
    assert {k: payload[k] for k in ("id", "status", "input", "prod_id", "pricing_id", "tpp_user_id")} == {
        k: order[k] for k in ("id", "status", "input", "prod_id", "pricing_id", "tpp_user_id")
    }
    assert payload["event"] == "order.created"
    assert request.headers["webhook-id"] == delivery_of(order["id"]).webhook_id
    assert request.headers["content-type"] == "application/json"
    wait_until(settled(order["id"], deliveries.SUCCEEDED))


def test_a_tampered_body_fails_verification(client, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    place_order(client, marketplace, acme)

    (request,) = receiver.wait_for(1)

    with pytest.raises(WebhookVerificationError):
        Webhook(acme.secret).verify(request.body.replace(b"Lisa", b"Lucy"), request.headers)


def test_failures_are_retried_with_the_same_webhook_id_until_a_2xx(client, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    receiver.will(Respond(500, b"PBX Over capacity"), Respond(503))

    order = place_order(client, marketplace, acme)

    requests = receiver.wait_for(3)
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    assert len({r.body for r in requests}) == 1  # the same bytes every time
    assert requests[1].at - requests[0].at >= 0.1  # the test schedule: 0.1 s, then 0.2 s
    assert requests[2].at - requests[1].at >= 0.2
    wait_until(settled(order["id"], deliveries.SUCCEEDED))
    logged = attempts_of(order["id"])
    assert [a.status_code for a in logged] == [500, 503, 200]
    assert logged[0].response_excerpt == "PBX Over capacity"
    assert all(a.url == receiver.url and a.duration_ms >= 0 and a.trigger == "scheduled" for a in logged)


def test_a_delivery_dies_when_the_schedule_runs_out(client, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    receiver.always(Respond(500))

    order = place_order(client, marketplace, acme)

    wait_until(settled(order["id"], deliveries.DEAD))
    assert len(attempts_of(order["id"])) == 3  # the first attempt and the schedule's two retries
    assert delivery_of(order["id"]).next_attempt_at is None


def test_timeouts_resets_and_redirects_are_failures_recorded_with_their_cause(client, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    receiver.will(Stall(3), Reset(), Respond(302, headers={"Location": "http://127.0.0.1:9/"}))

    order = place_order(client, marketplace, acme)

    wait_until(settled(order["id"], deliveries.DEAD), timeout=15)
    timeout, reset, redirect = attempts_of(order["id"])
    assert timeout.status_code is None and "timed out" in timeout.error
    assert reset.status_code is None and reset.error
    assert redirect.status_code == 302
    assert len(receiver.received) == 3  # the redirect was not followed


def test_the_response_excerpt_is_bounded(client, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    receiver.will(Respond(200, b"x" * 100_000))

    order = place_order(client, marketplace, acme)

    wait_until(settled(order["id"], deliveries.SUCCEEDED))
    (attempt,) = attempts_of(order["id"])
    assert len(attempt.response_excerpt) == deliveries.EXCERPT_CHARS


def test_a_duplicate_message_sends_nothing_twice(client, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    order = place_order(client, marketplace, acme)
    receiver.wait_for(1)
    wait_until(settled(order["id"], deliveries.SUCCEEDED))

    delivery.deliver_webhook.send(delivery_of(order["id"]).id)
    delivery.deliver_webhook.send(delivery_of(order["id"]).id)
    late = place_order(client, marketplace, acme)  # a later order, to know the queue has moved on

    wait_until(settled(late["id"], deliveries.SUCCEEDED))
    assert [r.headers["webhook-id"] for r in receiver.received].count(
        delivery_of(order["id"]).webhook_id
    ) == 1


def test_two_workers_claiming_at_once_get_one_claim(receiver):
    acme = factories.partner(webhook_url=receiver.url)
    row = deliveries.create_delivery(acme.id, "order.created", {"id": "po_x"})
    barrier = threading.Barrier(8)
    claims = []

    def contend():
        barrier.wait()
        try:
            claims.append(attempts.claim(row.id, lease_seconds=30))
        finally:
            close_connection()

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len([c for c in claims if c is not None]) == 1


def test_a_lapsed_claim_cannot_overwrite_the_next_workers_result(receiver):
    acme = factories.partner(webhook_url=receiver.url)
    row = deliveries.create_delivery(acme.id, "order.created", {"id": "po_x"})
    first = attempts.claim(row.id, lease_seconds=-1)  # a worker that died: its lease has lapsed
    second = attempts.claim(row.id, lease_seconds=30)
    ok = attempts.AttemptResult(url=receiver.url, duration_ms=5, status_code=200)

    assert second is not None
    assert attempts.record_attempt(first, ok, None, disable_after=FIVE_DAYS) is None
    assert attempts.record_attempt(second, ok, None, disable_after=FIVE_DAYS) == deliveries.SUCCEEDED
    assert Attempt.select().where(Attempt.delivery == row.id).count() == 2


def test_claims_made_together_take_each_claimable_delivery_once():
    acme = factories.partner()
    due, held, later = (
        deliveries.create_delivery(acme.id, "order.created", {"id": f"po_{n}"}) for n in range(3)
    )
    attempts.claim(held.id, lease_seconds=30)  # another worker holds it
    Delivery.update(next_attempt_at=utcnow() + timedelta(hours=1)).where(Delivery.id == later.id).execute()

    got = attempts.claim_many([due.id, held.id, later.id, due.id], lease_seconds=30)

    assert [claim is not None for claim in got] == [True, False, False, False]
    assert got[0].delivery_id == due.id and got[0].partner_id == acme.id and got[0].attempt_number == 1
    assert deliveries.get_delivery(due.id).lease_expires_at == got[0].lease_expires_at


def test_outcomes_written_together_move_each_delivery_its_claim_still_holds_and_log_every_attempt():
    acme = factories.partner()
    rows = [deliveries.create_delivery(acme.id, "order.created", {"id": f"po_{n}"}) for n in range(3)]
    lapsed = attempts.claim(rows[0].id, lease_seconds=-1)
    claims = [attempts.claim(rows[0].id, lease_seconds=30)] + [attempts.claim(r.id, 30) for r in rows[1:]]
    outcomes = [
        attempts.Outcome(
            delivery_id=claim.delivery_id,
            webhook_id=claim.webhook_id,
            lease_expires_at=claim.lease_expires_at,
            state=state,
            next_attempt_at=next_attempt_at,
            at=claim.lease_expires_at - timedelta(seconds=30),
            url="https://partner.example/hooks",
            status_code=status_code,
            error=None,
            duration_ms=7,
            response_excerpt=None,
            trigger=deliveries.SCHEDULED,
        )
        for claim, state, status_code, next_attempt_at in [
            (lapsed, deliveries.SUCCEEDED, 200, None),
            (claims[0], deliveries.SUCCEEDED, 200, None),
            (claims[1], deliveries.RETRYING, 500, claims[1].lease_expires_at),
            (claims[2], deliveries.SUCCEEDED, 204, None),
        ]
    ]

    assert attempts.write_outcomes(outcomes) == [False, True, True, True]

    stored = [deliveries.get_delivery(row.id) for row in rows]
    assert [row.state for row in stored] == [deliveries.SUCCEEDED, deliveries.RETRYING, deliveries.SUCCEEDED]
    assert [row.attempt_count for row in stored] == [1, 1, 1]
    assert stored[1].next_attempt_at == claims[1].lease_expires_at and stored[1].delivered_at is None
    assert stored[0].delivered_at is not None and stored[0].lease_expires_at is None
    assert sorted(a.status_code for a in Attempt.select()) == [200, 200, 204, 500]


def test_outcomes_written_again_after_their_commits_answer_was_lost_are_logged_once():
    acme = factories.partner()
    rows = [deliveries.create_delivery(acme.id, "order.created", {"id": f"po_{n}"}) for n in range(2)]
    outcomes = [
        attempts.Outcome(
            delivery_id=claim.delivery_id,
            webhook_id=claim.webhook_id,
            lease_expires_at=claim.lease_expires_at,
            state=deliveries.SUCCEEDED,
            next_attempt_at=None,
            at=utcnow(),
            url="https://partner.example/hooks",
            status_code=200,
            error=None,
            duration_ms=7,
            response_excerpt=None,
            trigger=deliveries.SCHEDULED,
        )
        for claim in (attempts.claim(row.id, lease_seconds=30) for row in rows)
    ]
    assert attempts.write_outcomes(outcomes) == [True, True]

    # The connection broke after the commit, before its answer: the group commit, taking the batch for
    # refused, writes each outcome again alone.
    again = [attempts.write_outcomes([outcome]) for outcome in outcomes]

    assert again == [[False], [False]]
    assert [Attempt.select().where(Attempt.delivery == row.id).count() for row in rows] == [1, 1]
    assert [deliveries.get_delivery(row.id).attempt_count for row in rows] == [1, 1]


def test_an_attempt_is_never_logged_against_another_delivery_that_took_its_id(receiver):
    acme = factories.partner(webhook_url=receiver.url)
    gone = deliveries.create_delivery(acme.id, "order.created", {"id": "po_gone"})
    claim = attempts.claim(gone.id, lease_seconds=30)
    Delivery.delete().where(Delivery.id == gone.id).execute()
    newcomer = Delivery.create(id=gone.id, partner=acme.id, event_type="order.created", payload="{}")
    failed = attempts.AttemptResult(url=receiver.url, duration_ms=5, error="connection refused")

    assert attempts.record_attempt(claim, failed, 5, disable_after=FIVE_DAYS) is None
    assert Attempt.select().where(Attempt.delivery == newcomer.id).count() == 0
    assert deliveries.get_delivery(newcomer.id).state == deliveries.PENDING


def test_a_response_holding_nul_characters_is_logged_with_them_replaced(receiver):
    acme = factories.partner(webhook_url=receiver.url)
    row = deliveries.create_delivery(acme.id, "order.created", {"id": "po_x"})
    claim = attempts.claim(row.id, lease_seconds=30)
    answer = attempts.AttemptResult(
        url=receiver.url, duration_ms=5, status_code=200, response_excerpt="ok\x00!"
    )

    assert attempts.record_attempt(claim, answer, None, disable_after=FIVE_DAYS) == deliveries.SUCCEEDED
    assert Attempt.get(Attempt.delivery == row.id).response_excerpt == "ok\ufffd!"


def test_the_payload_is_serialised_once_and_kept(client, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    order = place_order(client, marketplace, acme)

    (request,) = receiver.wait_for(1)

    assert request.body.decode() == delivery_of(order["id"]).payload
    assert json.loads(request.body)["id"] == order["id"]


def test_a_failure_after_the_claim_hands_the_delivery_back_at_once(monkeypatch, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    row = deliveries.create_delivery(acme.id, "order.created", {"id": "po_x"})

    def broken(claim):
        raise RuntimeError("the database went away mid-attempt")

    monkeypatch.setattr(delivery, "attempt", broken)
    with pytest.raises(RuntimeError):
        delivery.deliver_webhook.fn(row.id)

    handed_back = Delivery.get_by_id(row.id)
    assert handed_back.state == deliveries.PENDING and handed_back.lease_expires_at is None
    assert attempts.claim(row.id, lease_seconds=30) is not None  # the retry can take it at once


def test_a_wake_up_a_little_early_by_the_workers_clock_comes_back_when_the_row_is_due(receiver):
    # The API's host stamped the row 0.5 s ahead of this worker's clock.
    acme = factories.partner(webhook_url=receiver.url)
    row = deliveries.create_delivery(acme.id, "order.created", {"id": "po_1"})
    Delivery.update(next_attempt_at=utcnow() + timedelta(seconds=0.5)).where(Delivery.id == row.id).execute()
    stale = deliveries.create_delivery(acme.id, "order.created", {"id": "po_2"})
    Delivery.update(next_attempt_at=utcnow() + timedelta(hours=2)).where(Delivery.id == stale.id).execute()

    delivery.deliver_webhook(row.id)  # too early: nothing to claim yet
    delivery.deliver_webhook(stale.id)  # a duplicate of a wake-up due in two hours: dropped

    (webhook,) = receiver.wait_for(1, timeout=5)  # not the sweeper's minute and more
    assert webhook.headers["webhook-id"] == row.webhook_id
    assert Delivery.get_by_id(stale.id).state == deliveries.PENDING


def test_a_workers_claim_outlasts_the_longest_wait_for_a_partner_slot_and_the_request(receiver, settings):
    acme = factories.partner(webhook_url=receiver.url)
    row = deliveries.create_delivery(acme.id, "order.created", {"id": "po_x"})
    before = utcnow()

    claim = delivery.claim_delivery(row.id)

    held_for = (claim.lease_expires_at - before).total_seconds()
    slot_wait = settings.webhook_timeout_seconds / 2  # the most PartnerSlots.acquire waits
    assert held_for >= slot_wait + settings.webhook_timeout_seconds + delivery.LEASE_MARGIN_SECONDS
