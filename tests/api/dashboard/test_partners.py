import re
from datetime import timedelta

from standardwebhooks.webhooks import Webhook

from models import deliveries, keys, partners
from models.base import utcnow
from models.deliveries import Delivery
from tests import factories
from tests.factories import auth
from tests.helpers import wait_until


def test_operators_see_each_endpoints_health(operator_browser):
    factories.partner(name="Acme")
    gone = factories.partner(name="Gone Ltd")
    partners.record_failure(gone.id, utcnow(), disable_after=timedelta(days=5))
    partners.disable_endpoint(gone.id, "http://gone.example answered 410 Gone")

    page = operator_browser.get("/dashboard/partners").get_data(as_text=True)

    assert "Acme" in page and "Gone Ltd" in page
    assert "answered 410 Gone" in page and page.count("Enable endpoint") == 1
    assert re.search(r'class="num alert">1<', page)  # Gone Ltd's consecutive failure


def test_enabling_an_endpoint_sends_its_held_deliveries(operator_browser, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    held = deliveries.create_delivery(acme.id, "order.created", {"id": "po_1"})
    Delivery.update(state=deliveries.HELD, next_attempt_at=None).where(Delivery.id == held.id).execute()
    partners.disable_endpoint(acme.id, "410 Gone")

    response = operator_browser.post(f"/dashboard/partners/{acme.id}/endpoint/enable")

    assert response.status_code == 302
    assert "1 held deliveries are on their way" in operator_browser.get("/dashboard/partners").get_data(
        as_text=True
    )
    assert receiver.wait_for(1)[0].headers["webhook-id"] == held.webhook_id
    wait_until(lambda: deliveries.get_delivery(held.id).state == deliveries.SUCCEEDED)
    assert partners.get_partner(acme.id).endpoint_enabled


def test_rotating_a_secret_shows_the_new_one_once(operator_browser, client, receiver):
    acme = factories.partner(webhook_url=receiver.url)

    page = operator_browser.post(f"/dashboard/partners/{acme.id}/secret/rotate").get_data(as_text=True)

    secret = re.search(r'<pre class="secret" id="secret">(whsec_[^<]+)</pre>', page).group(1)
    assert secret != acme.secret
    assert secret not in operator_browser.get("/dashboard/partners").get_data(as_text=True)
    price = factories.price(factories.product(acme))
    body = {"prod_id": price.product_id, "pricing_id": price.id, "tpp_user_id": factories.user().id}
    client.post("/orders", json=body, headers=auth(factories.api_key(keys.MARKETPLACE)))
    request = receiver.wait_for(1)[0]
    Webhook(secret).verify(request.body, request.headers)
    Webhook(acme.secret).verify(request.body, request.headers)  # the old one signs for 24 hours more


def test_partners_cannot_manage_endpoints(partner_browser):
    browser, acme, price = partner_browser

    assert browser.post(f"/dashboard/partners/{acme.id}/secret/rotate").status_code == 403
    assert browser.post(f"/dashboard/partners/{acme.id}/endpoint/enable").status_code == 403
