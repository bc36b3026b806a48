from datetime import timedelta

import pytest

from models import deliveries, keys, partners
from models.base import isoformat, utcnow
from models.deliveries import Attempt, Delivery
from tests import factories
from tests.factories import auth
from tests.helpers import wait_until
from tests.receiver import Respond


@pytest.fixture
def operator():
    return auth(factories.api_key(keys.OPERATOR))


@pytest.fixture
def marketplace():
    return auth(factories.api_key(keys.MARKETPLACE))


def place_order(client, marketplace, partner):
    price = factories.price(factories.product(partner))
    body = {"prod_id": price.product_id, "pricing_id": price.id, "tpp_user_id": factories.user().id}
    return client.post("/orders", json=body, headers=marketplace).get_json()["id"]


def delivery_of(order_id):
    return Delivery.get(Delivery.order == order_id)


def dead_delivery(client, marketplace, receiver, partner):
    receiver.will(Respond(500), Respond(500), Respond(500))
    order = place_order(client, marketplace, partner)
    wait_until(lambda: delivery_of(order).state == deliveries.DEAD)
    return delivery_of(order)


def test_an_operator_lists_deliveries_by_partner_state_event_and_time(client, operator):
    acme, rival = factories.partner(), factories.partner()
    mine = deliveries.create_delivery(acme.id, "order.created", {"id": "po_1"})
    deliveries.create_delivery(rival.id, "order.created", {"id": "po_2"})
    added = deliveries.create_delivery(acme.id, "order.input_added", {"id": "po_3"})
    old = deliveries.create_delivery(acme.id, "order.created", {"id": "po_4"})
    Delivery.update(created_at=utcnow() - timedelta(days=2), state=deliveries.DEAD).where(
        Delivery.id == old.id
    ).execute()

    def ids(query):
        response = client.get(f"/deliveries?{query}", headers=operator)
        assert response.status_code == 200, response.get_json()
        return [d["id"] for d in response.get_json()["data"]]

    since = isoformat(utcnow() - timedelta(days=1))
    assert set(ids(f"partner_id={acme.id}&event_type=order.created")) == {mine.id, old.id}
    assert ids(f"partner_id={acme.id}&state=dead") == [old.id]
    assert set(ids(f"partner_id={acme.id}&created_after={since}")) == {mine.id, added.id}
    assert len(ids("limit=100")) == 4


def test_bad_filters_are_refused(client, operator):
    assert client.get("/deliveries?state=lost", headers=operator).status_code == 400
    assert client.get("/deliveries?created_after=yesterday", headers=operator).status_code == 400
    assert client.get("/deliveries?starting_after=abc", headers=operator).status_code == 400


def test_one_delivery_shows_its_body_and_every_attempt(client, operator, marketplace, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    dead = dead_delivery(client, marketplace, receiver, acme)

    shown = client.get(f"/deliveries/{dead.id}", headers=operator).get_json()

    assert shown["state"] == "dead" and shown["webhook_id"] == dead.webhook_id
    assert shown["payload"]["id"] == dead.order_id
    assert [a["status_code"] for a in shown["attempts"]] == [500, 500, 500]
    assert all(a["trigger"] == "scheduled" and a["url"] == receiver.url for a in shown["attempts"])


def test_requeueing_a_dead_delivery_sends_it_again_with_its_webhook_id(
    client, operator, marketplace, receiver
):
    acme = factories.partner(webhook_url=receiver.url)
    dead = dead_delivery(client, marketplace, receiver, acme)

    response = client.post(f"/deliveries/{dead.id}/requeue", headers=operator)

    assert response.status_code == 202 and response.get_json()["requeued"] is True
    again = receiver.wait_for(4)[3]
    assert again.headers["webhook-id"] == dead.webhook_id
    wait_until(lambda: delivery_of(dead.order_id).state == deliveries.SUCCEEDED)
    last = Attempt.select().where(Attempt.delivery == dead.id).order_by(Attempt.id.desc()).first()
    assert last.trigger == "manual" and last.status_code == 200


def test_a_bulk_requeue_counts_first_then_sends_every_failed_match(client, operator, marketplace, receiver):
    acme, rival = factories.partner(webhook_url=receiver.url), factories.partner(webhook_url=receiver.url)
    dead = [dead_delivery(client, marketplace, receiver, acme) for _ in range(2)]
    dead_delivery(client, marketplace, receiver, rival)

    dry = client.post("/deliveries/requeue", json={"partner_id": acme.id, "dry_run": True}, headers=operator)
    real = client.post("/deliveries/requeue", json={"partner_id": acme.id}, headers=operator)

    assert dry.get_json() == {"dry_run": True, "matched": 2, "requeued": 0}
    assert real.status_code == 202 and real.get_json()["requeued"] == 2
    wait_until(lambda: all(delivery_of(d.order_id).state == deliveries.SUCCEEDED for d in dead))
    resent = {r.headers["webhook-id"] for r in receiver.received[9:]}
    assert resent == {d.webhook_id for d in dead}


def test_a_held_delivery_cannot_be_requeued_until_the_endpoint_is_enabled(client, operator):
    acme = factories.partner()
    held = deliveries.create_delivery(acme.id, "order.created", {"id": "po_1"})
    Delivery.update(state=deliveries.HELD).where(Delivery.id == held.id).execute()
    partners.disable_endpoint(acme.id, "410 Gone")

    response = client.post(f"/deliveries/{held.id}/requeue", headers=operator)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "endpoint_disabled"


def test_a_partner_sees_and_requeues_only_its_own_deliveries(client, marketplace, receiver):
    acme, rival = factories.partner(webhook_url=receiver.url), factories.partner(webhook_url=receiver.url)
    mine = dead_delivery(client, marketplace, receiver, acme)
    theirs = dead_delivery(client, marketplace, receiver, rival)

    listed = client.get("/deliveries", headers=acme.headers).get_json()["data"]
    named = client.get(f"/deliveries?partner_id={acme.id}", headers=acme.headers).get_json()["data"]
    another = client.get(f"/deliveries?partner_id={rival.id}", headers=acme.headers)

    assert [d["id"] for d in listed] == [d["id"] for d in named] == [mine.id]
    assert another.status_code == 404  # not a list of its own under another's name
    assert client.get(f"/deliveries/{theirs.id}", headers=acme.headers).status_code == 404
    assert client.post(f"/deliveries/{theirs.id}/requeue", headers=acme.headers).status_code == 404
    assert client.post(f"/deliveries/{mine.id}/requeue", headers=acme.headers).status_code == 202
    assert client.post("/deliveries/requeue", json={}, headers=acme.headers).status_code == 403


def test_the_marketplace_does_not_see_deliveries(client, marketplace):
    assert client.get("/deliveries", headers=marketplace).status_code == 403
