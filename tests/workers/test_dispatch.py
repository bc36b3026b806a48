"""Messages sent after a commit: a broker that fails leaves them to the sweeper, never fails the request."""

import json
import logging

import dramatiq
import pytest
import redis

from models import deliveries, keys
from models.deliveries import Delivery
from tests import factories
from tests.factories import auth


@pytest.fixture
def marketplace():
    return auth(factories.api_key(keys.MARKETPLACE))


def place_order(client, marketplace, partner=None):
    price = factories.price(factories.product(partner or factories.partner()))
    body = {"prod_id": price.product_id, "pricing_id": price.id, "tpp_user_id": factories.user().id}
    return client.post("/orders", json=body, headers=marketplace)


def test_an_error_the_broker_answers_leaves_the_webhook_to_the_sweeper(
    client, marketplace, monkeypatch, caplog
):
    def out_of_memory(*args, **kwargs):
        raise redis.OutOfMemoryError("OOM command not allowed when used memory > 'maxmemory'")

    monkeypatch.setattr(dramatiq.Actor, "send_with_options", out_of_memory)
    with caplog.at_level(logging.WARNING, logger="workers.dispatch"):
        response = place_order(client, marketplace)

    assert response.status_code == 201  # the order is placed; its webhook waits for the sweeper
    assert Delivery.get(Delivery.order == response.get_json()["id"]).state == deliveries.PENDING
    assert "left for the sweeper" in caplog.text


def test_a_replica_that_answers_readonly_during_a_failover_is_tried_again(
    client, marketplace, monkeypatch, receiver
):
    sent = dramatiq.Actor.send_with_options
    refusals = []

    def read_only_once(actor, *args, **kwargs):
        if not refusals:
            refusals.append(actor.actor_name)
            raise redis.ReadOnlyError("You can't write against a read only replica.")
        return sent(actor, *args, **kwargs)

    monkeypatch.setattr(dramatiq.Actor, "send_with_options", read_only_once)
    response = place_order(client, marketplace, factories.partner(webhook_url=receiver.url))

    assert response.status_code == 201 and refusals == ["deliver_webhook"]
    (webhook,) = receiver.wait_for(1)  # sent on the second try, long before the sweeper would
    assert json.loads(webhook.body)["id"] == response.get_json()["id"]
