import re
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from api.dashboard.formatting import when
from models import deliveries, keys, partners
from models.base import utcnow
from models.deliveries import Delivery
from tests import factories
from tests.api.dashboard.conftest import Browser
from tests.factories import auth
from tests.helpers import wait_until


def rotate_form(browser, partner_id: str) -> dict[str, str]:
    """The rotate-secret form for one partner, as the partners page shows it now."""
    page = browser.get("/dashboard/partners").get_data(as_text=True)
    action = f'action="/dashboard/partners/{partner_id}/secret/rotate"'
    form = page[page.index(action) : page.index("</form>", page.index(action))]
    return {"secret_version": re.search(r'name="secret_version" value="([^"]*)"', form).group(1)}


def shown_secret(page: str) -> str:
    return re.search(r'<pre class="secret" id="secret">(whsec_[^<]+)</pre>', page).group(1)


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

    page = operator_browser.post(
        f"/dashboard/partners/{acme.id}/secret/rotate", rotate_form(operator_browser, acme.id)
    ).get_data(as_text=True)

    secret = shown_secret(page)
    assert secret != acme.secret and "A new signing secret" in page
    assert secret not in operator_browser.get("/dashboard/partners").get_data(as_text=True)
    price = factories.price(factories.product(acme))
    body = {"prod_id": price.product_id, "pricing_id": price.id, "tpp_user_id": factories.user().id}
    client.post("/orders", json=body, headers=auth(factories.api_key(keys.MARKETPLACE)))
    request = receiver.wait_for(1)[0]
    Webhook(secret).verify(request.body, request.headers)
    Webhook(acme.secret).verify(request.body, request.headers)  # the old one signs for 24 hours more


def test_sending_one_rotate_form_twice_rotates_once_and_shows_the_same_secret(operator_browser):
    acme = factories.partner()
    form = rotate_form(operator_browser, acme.id)

    first = operator_browser.post(f"/dashboard/partners/{acme.id}/secret/rotate", form)
    reloaded = operator_browser.post(f"/dashboard/partners/{acme.id}/secret/rotate", form)

    assert first.status_code == reloaded.status_code == 200
    secret = shown_secret(first.get_data(as_text=True))
    page = reloaded.get_data(as_text=True)
    assert shown_secret(page) == secret
    assert partners.signing_secrets(acme.id) == [secret, acme.secret]  # one rotation, not two
    (made,) = partners.WebhookSecret.select().where(partners.WebhookSecret.secret == secret)
    assert "already rotated" in page and f"at {when(made.created_at)}" in page


def test_a_form_kept_from_before_someone_elses_rotation_rotates_nothing_and_shows_no_secret(
    app, operator_browser
):
    acme = factories.partner()
    kept = rotate_form(operator_browser, acme.id)
    colleague = Browser(app.test_client())
    colleague.sign_in(factories.api_key(keys.OPERATOR))
    made = shown_secret(
        colleague.post(f"/dashboard/partners/{acme.id}/secret/rotate", kept).get_data(as_text=True)
    )

    late = operator_browser.post(f"/dashboard/partners/{acme.id}/secret/rotate", kept)

    page = late.get_data(as_text=True)
    assert late.status_code == 409 and "rotated at" in page and made not in page
    assert partners.signing_secrets(acme.id) == [made, acme.secret]


def test_a_fresh_form_after_a_rotation_rotates_again(operator_browser):
    acme = factories.partner()
    rotate = f"/dashboard/partners/{acme.id}/secret/rotate"
    second = shown_secret(
        operator_browser.post(rotate, rotate_form(operator_browser, acme.id)).get_data(as_text=True)
    )

    page = operator_browser.post(rotate, rotate_form(operator_browser, acme.id)).get_data(as_text=True)

    third = shown_secret(page)
    assert "A new signing secret" in page
    assert partners.signing_secrets(acme.id) == [third, second, acme.secret]


@pytest.mark.parametrize("version", [None, "", "abc", "1e3", "-1", "another partner's"])
def test_a_rotate_form_without_a_version_of_this_partners_secret_is_a_400_page(operator_browser, version):
    acme, other = factories.partner(), factories.partner()
    if version == "another partner's":
        version = rotate_form(operator_browser, other.id)["secret_version"]
    form = {} if version is None else {"secret_version": version}

    response = operator_browser.post(f"/dashboard/partners/{acme.id}/secret/rotate", form)

    assert response.status_code == 400 and "text/html" in response.content_type
    assert partners.signing_secrets(acme.id) == [acme.secret]
    assert partners.signing_secrets(other.id) == [other.secret]


def test_partners_cannot_manage_endpoints(partner_browser):
    browser, acme, price = partner_browser

    assert browser.post(f"/dashboard/partners/{acme.id}/secret/rotate").status_code == 403
    assert browser.post(f"/dashboard/partners/{acme.id}/endpoint/enable").status_code == 403
