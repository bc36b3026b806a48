"""The retry schedule, Retry-After, 410 Gone and endpoint health."""

import dataclasses
import random
from datetime import timedelta

import pytest

from models import attempts, deliveries, keys, partners
from models.base import utcnow
from models.deliveries import Attempt, Delivery
from tests import factories
from tests.factories import auth
from tests.helpers import wait_until
from tests.receiver import Respond
from workers import delivery
from workers.sender import parse_retry_after


@pytest.fixture
def marketplace():
    return auth(factories.api_key(keys.MARKETPLACE))


def place_order(client, marketplace, partner):
    price = factories.price(factories.product(partner))
    body = {"prod_id": price.product_id, "pricing_id": price.id, "tpp_user_id": factories.user().id}
    response = client.post("/orders", json=body, headers=marketplace)
    assert response.status_code == 201
    return response.get_json()["id"]


def state_of(order_id):
    return Delivery.get(Delivery.order == order_id).state


def test_the_default_schedule_is_svixs_with_twenty_percent_jitter():
    schedule = (5, 300, 1800, 7200, 18000, 36000, 36000)
    rng = random.Random(7)

    delays = [[attempts.retry_delay(schedule, n, 0.2, rng) for n in range(1, 8)] for _ in range(200)]

    for n, base in enumerate(schedule):
        observed = [row[n] for row in delays]
        assert min(observed) >= base * 0.8 and max(observed) <= base * 1.2
        assert max(observed) - min(observed) > base * 0.2  # it does spread
    assert attempts.retry_delay(schedule, 8, 0.2, rng) is None  # then the delivery is dead


def test_retry_after_is_read_as_seconds_or_as_a_date():
    now = utcnow()

    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2099 07:28:00 GMT") > 10**9
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    # Headers arrive as Latin-1: "²" passes str.isdigit, which float() refuses.
    assert parse_retry_after("\xb2") is None and parse_retry_after("1\xb3") is None
    assert parse_retry_after("9" * 400) is None and parse_retry_after("Wed, 99 Foo 0 99:99:99 GMT") is None
    assert now is not None


def test_a_retry_after_longer_than_the_schedule_is_spread_later_never_sooner(monkeypatch):
    monkeypatch.setattr(
        delivery, "settings", dataclasses.replace(delivery.settings, webhook_retry_jitter=0.2)
    )
    asked = attempts.AttemptResult(
        url="https://acme.example/", duration_ms=5, status_code=429, retry_after_seconds=1
    )  # 1 s, under the tests' bound (1.5 s) and over their first delay (0.1 s)

    delays = [delivery.next_delay(1, asked) for _ in range(200)]

    assert all(1 <= delay <= 1.2 for delay in delays)
    assert len({round(delay, 3) for delay in delays}) > 100  # not one instant for every paused delivery


def test_a_429_retry_after_is_honoured(client, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    receiver.will(Respond(429, headers={"Retry-After": "1"}))

    place_order(client, marketplace, acme)

    first, second = receiver.wait_for(2)
    assert second.at - first.at >= 1.0  # the schedule alone would have come back after 0.1 s


def test_an_unreadable_retry_after_is_an_attempt_on_the_schedule(client, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    receiver.will(Respond(503, headers={"Retry-After": "\xb2"}))  # the byte 0xB2, "²" in Latin-1

    order_id = place_order(client, marketplace, acme)

    receiver.wait_for(2)  # the schedule's retry (0.1 s in the tests)
    logged = list(Attempt.select().join(Delivery).where(Delivery.order == order_id).order_by(Attempt.id))
    assert [attempt.status_code for attempt in logged][:1] == [503]


def test_a_retry_after_beyond_the_bound_is_capped(client, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    receiver.will(Respond(503, headers={"Retry-After": "3600"}))

    place_order(client, marketplace, acme)

    first, second = receiver.wait_for(2, timeout=10)
    assert 1.5 <= second.at - first.at < 5  # WEBHOOK_RETRY_AFTER_MAX_SECONDS is 1.5 in the tests


def test_410_gone_disables_the_endpoint_at_once_and_holds_what_follows(client, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    receiver.will(Respond(410))

    gone = place_order(client, marketplace, acme)
    wait_until(lambda: state_of(gone) == deliveries.HELD)
    later = place_order(client, marketplace, acme)

    wait_until(lambda: state_of(later) == deliveries.HELD)
    partner = partners.get_partner(acme.id)
    assert partner.disabled_at is not None and "410" in partner.disabled_reason
    assert len(receiver.received) == 1  # nothing was sent once the endpoint was disabled


def test_an_endpoint_failing_for_the_whole_span_is_disabled_with_a_reason(client, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    partners.Partner.update(failing_since=utcnow() - timedelta(days=6), consecutive_failures=40).where(
        partners.Partner.id == acme.id
    ).execute()
    receiver.always(Respond(500))

    order = place_order(client, marketplace, acme)

    wait_until(lambda: state_of(order) == deliveries.HELD)
    partner = partners.get_partner(acme.id)
    assert partner.disabled_reason == "every attempt failed for 5 days"
    assert Attempt.select().count() == 1


def test_a_success_resets_the_endpoints_failure_count(client, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    receiver.will(Respond(500), Respond(500))

    order = place_order(client, marketplace, acme)

    wait_until(lambda: state_of(order) == deliveries.SUCCEEDED)
    partner = partners.get_partner(acme.id)
    assert partner.consecutive_failures == 0 and partner.failing_since is None
    assert partner.last_success_at is not None


def test_held_deliveries_go_out_when_an_operator_enables_the_endpoint(client, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    partners.disable_endpoint(acme.id, "maintenance")
    order = place_order(client, marketplace, acme)
    wait_until(lambda: state_of(order) == deliveries.HELD)
    operator = auth(factories.api_key(keys.OPERATOR))

    response = client.post(f"/partners/{acme.id}/endpoint/enable", headers=operator)

    assert response.status_code == 200
    assert response.get_json()["released_deliveries"] == 1
    (request,) = receiver.wait_for(1)
    assert request.headers["webhook-id"] == Delivery.get(Delivery.order == order).webhook_id
    wait_until(lambda: state_of(order) == deliveries.SUCCEEDED)
