import threading
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from models import keys, partners
from models.base import utcnow
from models.db import db
from tests import factories
from tests.conftest import SERVICE_TIER
from tests.factories import auth
from tests.helpers import wait_until


@pytest.fixture
def operator():
    return auth(factories.api_key(keys.OPERATOR))


def order_webhook(client, receiver, partner, count):
    price = factories.price(factories.product(partner))
    body = {"prod_id": price.product_id, "pricing_id": price.id, "tpp_user_id": factories.user().id}
    marketplace = auth(factories.api_key(keys.MARKETPLACE))
    assert client.post("/orders", json=body, headers=marketplace).status_code == 201
    return receiver.wait_for(count)[count - 1]


def test_after_a_rotation_both_secrets_sign_for_24_hours(client, operator, receiver):
    acme = factories.partner(webhook_url=receiver.url)

    rotated = client.post(f"/partners/{acme.id}/secret/rotate", headers=operator).get_json()
    request = order_webhook(client, receiver, acme, 1)

    assert rotated["webhook_secret"] != acme.secret
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(acme.secret).verify(request.body, request.headers)
    Webhook(rotated["webhook_secret"]).verify(request.body, request.headers)


def test_once_the_overlap_ends_only_the_new_secret_signs(client, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    new_secret, _ = partners.rotate_secret(acme.id, now=utcnow() - timedelta(hours=25))

    request = order_webhook(client, receiver, acme, 1)

    Webhook(new_secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(acme.secret).verify(request.body, request.headers)


def test_a_partner_rotates_its_own_secret_but_not_anothers(client):
    acme, rival = factories.partner(), factories.partner()

    assert client.post(f"/partners/{acme.id}/secret/rotate", headers=acme.headers).status_code == 200
    assert client.post(f"/partners/{rival.id}/secret/rotate", headers=acme.headers).status_code == 404


def test_a_moved_endpoint_gets_the_next_webhooks(client, receiver):
    acme = factories.partner()

    moved = client.patch(f"/partners/{acme.id}", json={"webhook_url": receiver.url}, headers=acme.headers)
    bad = client.patch(f"/partners/{acme.id}", json={"webhook_url": "ftp://x"}, headers=acme.headers)

    assert moved.status_code == 200 and bad.status_code == 400
    order_webhook(client, receiver, acme, 1)


def test_operators_see_every_partners_endpoint_health(client, operator):
    acme = factories.partner()
    partners.disable_endpoint(acme.id, "410 Gone")

    listed = client.get("/partners", headers=operator).get_json()["data"]

    (shown,) = listed
    assert shown["endpoint"]["enabled"] is False and shown["endpoint"]["disabled_reason"] == "410 Gone"
    assert client.get("/partners", headers=acme.headers).status_code == 403


def test_an_operator_creates_a_partner_over_the_api(client, operator):
    response = client.post(
        "/partners", json={"name": "Acme", "webhook_url": "https://acme.example/hooks"}, headers=operator
    )

    created = response.get_json()
    assert response.status_code == 201
    assert created["webhook_secret"].startswith("whsec_") and created["api_key"].startswith("ck_")
    assert client.get(f"/partners/{created['id']}", headers=auth(created["api_key"])).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",  # urlparse raises on it
        "http://℀.com/",  # so it does here, after NFKC normalization
        "http://127.0.0.1:abc/",  # the sender's parser (urllib3) reads none of these
        "http://[::1]:99999/",
        "http://exa mple.com/",
        "http://acme.example:0/",
    ],
)
def test_a_webhook_url_the_sender_could_not_request_is_refused_when_given(client, operator, url):
    acme = factories.partner()
    endpoint = partners.get_partner(acme.id).webhook_url

    created = client.post("/partners", json={"name": "Acme", "webhook_url": url}, headers=operator)
    moved = client.patch(f"/partners/{acme.id}", json={"webhook_url": url}, headers=acme.headers)

    assert created.status_code == moved.status_code == 400
    assert created.get_json()["error"]["fields"] == {"webhook_url": "must be an absolute http(s) URL"}
    assert partners.Partner.select().count() == 1
    assert partners.get_partner(acme.id).webhook_url == endpoint


@pytest.mark.parametrize(
    "url", ["https://a..example.com/hook", f"https://{'a' * 64}.example.com/", "https://.example.com/"]
)
def test_a_webhook_url_whose_host_dns_cannot_look_up_is_refused_when_given(client, operator, url):
    acme = factories.partner()

    created = client.post("/partners", json={"name": "Acme", "webhook_url": url}, headers=operator)
    moved = client.patch(f"/partners/{acme.id}", json={"webhook_url": url}, headers=acme.headers)

    assert created.status_code == moved.status_code == 400
    assert moved.get_json()["error"]["fields"] == {"webhook_url": "has a host name DNS cannot look up"}
    assert partners.Partner.select().count() == 1


def waiting_for_a_lock() -> bool:
    """Whether a connection to this database is waiting for a lock another holds."""
    query = "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    return db.execute_sql(query).fetchone() is not None


@pytest.mark.skipif(not SERVICE_TIER, reason="SQLite's writers take turns already")
def test_two_rotations_at_once_leave_one_current_secret():
    acme = factories.partner()
    first_rotated, let_first_commit = threading.Event(), threading.Event()
    made = []

    def rotate(hold: bool):
        with db.connection_context(), db.atomic():
            made.append(partners.rotate_secret(acme.id)[0])
            if hold:
                first_rotated.set()
                let_first_commit.wait(5)

    first = threading.Thread(target=rotate, args=(True,))
    first.start()
    assert first_rotated.wait(5)
    second = threading.Thread(target=rotate, args=(False,))
    second.start()
    wait_until(waiting_for_a_lock)  # the second rotation, on the first's transaction
    let_first_commit.set()
    first.join(5)
    second.join(5)

    current = partners.WebhookSecret.select().where(
        (partners.WebhookSecret.partner == acme.id) & partners.WebhookSecret.expires_at.is_null()
    )
    assert [row.secret for row in current] == [made[-1]]
    assert len(partners.signing_secrets(acme.id)) == 3  # the first's and the original keep signing a day
