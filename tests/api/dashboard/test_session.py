import hashlib
from datetime import timedelta

import pytest

from models import dashboard_sessions, keys, orders
from models.base import utcnow
from models.dashboard_sessions import DashboardSession
from tests import factories
from tests.api.dashboard.conftest import Browser
from workers.housekeeping import purge_dashboard_sessions


def cookie_header(response) -> str:
    (cookie,) = [v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session=")]
    return cookie


def replay(app, cookie: str, path: str = "/dashboard/orders"):
    """``path`` requested by another browser holding a copy of ``cookie``."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get(path)


def signed_out(response) -> bool:
    return response.status_code == 302 and response.location.startswith("/dashboard/sign-in")


def test_a_partner_signs_in_with_its_key_and_lands_on_its_orders(browser):
    acme = factories.partner(name="Acme Broadband")

    response = browser.sign_in(acme.api_key)

    assert response.status_code == 302 and response.location == "/dashboard/orders"
    page = browser.get("/dashboard/orders").get_data(as_text=True)
    assert "Acme Broadband" in page and "Sign out" in page


def test_an_operator_lands_on_the_deliveries(browser):
    response = browser.sign_in(factories.api_key(keys.OPERATOR))

    assert response.location == "/dashboard/deliveries"
    assert browser.get("/dashboard/deliveries").status_code == 200


@pytest.mark.parametrize(
    "key, message",
    [
        (lambda: factories.api_key(keys.MARKETPLACE), "A marketplace key cannot sign in"),
        (lambda: "ck_not-a-key", "That key is not valid"),
    ],
)
def test_marketplace_and_unknown_keys_are_refused(browser, key, message):
    response = browser.sign_in(key())

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert browser.get("/dashboard/orders").status_code == 302  # still signed out


def test_pages_send_a_signed_out_visitor_to_sign_in_and_back(browser):
    acme = factories.partner()

    response = browser.get("/dashboard/products?starting_after=x")
    signed_in = browser.post("/dashboard/sign-in", {"api_key": acme.api_key, "next": "/dashboard/products"})

    assert response.status_code == 302
    assert response.location.startswith("/dashboard/sign-in?next=/dashboard/products")
    assert signed_in.location == "/dashboard/products"


def test_sign_in_never_sends_anyone_off_the_dashboard(browser):
    acme = factories.partner()

    response = browser.post("/dashboard/sign-in", {"api_key": acme.api_key, "next": "https://evil.example/"})

    assert response.location == "/dashboard/orders"


def test_a_next_that_is_no_url_at_all_is_ignored(browser):
    acme = factories.partner()

    page = browser.get("/dashboard/sign-in?next=http://[::1")
    response = browser.post("/dashboard/sign-in", {"api_key": acme.api_key, "next": "//[x"})

    assert page.status_code == 200 and "[::1" not in page.get_data(as_text=True)
    assert response.location == "/dashboard/orders"


def test_the_session_cookie_is_httponly_and_samesite_lax_and_not_secure_in_development(browser):
    response = browser.sign_in(factories.partner().api_key)

    cookie = cookie_header(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert factories.partner().api_key not in cookie  # the key itself is never in the cookie


def test_outside_development_the_session_cookie_is_secure(make_app):
    browser = Browser(make_app(environment="production", secret_key="prod-secret").test_client())

    cookie = cookie_header(browser.sign_in(factories.partner().api_key))

    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_cookie_holds_a_token_and_the_role_and_the_database_only_the_tokens_digest(browser):
    acme = factories.partner()
    browser.sign_in(acme.api_key)

    with browser.client.session_transaction() as stored:
        token = stored["token"]
        assert stored["role"] == "partner"
        assert acme.api_key not in str(dict(stored))
    assert [row.id for row in DashboardSession.select()] == [hashlib.sha256(token.encode()).hexdigest()]


def test_a_form_without_the_sessions_csrf_token_is_refused(partner_browser):
    browser, acme, price = partner_browser
    order = factories.order(price)

    missing = browser.client.post(f"/dashboard/orders/{order.id}/answer", data={"status": "Failed"})
    wrong = browser.client.post(
        f"/dashboard/orders/{order.id}/answer", data={"status": "Failed", "csrf_token": "forged"}
    )

    for response in (missing, wrong):
        assert response.status_code == 400
        assert "text/html" in response.content_type
        assert "did not come from the dashboard" in response.get_data(as_text=True)
    assert orders.get_order(order.id).status == "Pending"


def test_signing_in_needs_the_csrf_token_too(browser):
    response = browser.client.post("/dashboard/sign-in", data={"api_key": factories.partner().api_key})

    assert response.status_code == 400


def test_signing_out_ends_the_session(partner_browser):
    browser, acme, price = partner_browser

    response = browser.post("/dashboard/sign-out")

    assert response.status_code == 302 and response.location == "/dashboard/sign-in"
    assert browser.get("/dashboard/orders").status_code == 302


def test_a_cookie_copied_before_sign_out_is_sent_to_sign_in_after_it(app, partner_browser):
    browser, acme, price = partner_browser
    copied = browser.client.get_cookie("session").value
    assert replay(app, copied).status_code == 200

    browser.post("/dashboard/sign-out")

    assert signed_out(replay(app, copied))


def test_signing_in_again_ends_the_session_the_browser_had(app, partner_browser):
    browser, acme, price = partner_browser
    copied = browser.client.get_cookie("session").value

    browser.sign_in(acme.api_key)

    assert signed_out(replay(app, copied))
    assert browser.get("/dashboard/orders").status_code == 200


def test_revoking_the_key_ends_its_sessions_at_once(partner_browser):
    browser, acme, price = partner_browser

    keys.revoke(keys.ApiKey.get(keys.ApiKey.partner == acme.id).id)

    assert signed_out(browser.get("/dashboard/orders"))


def test_a_session_past_its_expiry_is_sent_to_sign_in(partner_browser):
    browser, acme, price = partner_browser

    DashboardSession.update(expires_at=utcnow() - timedelta(seconds=1)).execute()

    assert signed_out(browser.get("/dashboard/orders"))


def test_a_session_ends_twelve_hours_after_sign_in_however_busy(partner_browser, monkeypatch):
    browser, acme, price = partner_browser
    for _ in range(3):
        assert browser.get("/dashboard/orders").status_code == 200
    later = utcnow() + timedelta(hours=12, seconds=1)

    monkeypatch.setattr(dashboard_sessions, "utcnow", lambda: later)

    assert signed_out(browser.get("/dashboard/orders"))


def test_the_hourly_purge_deletes_only_expired_sessions(partner_browser):
    browser, acme, price = partner_browser
    key_id = keys.ApiKey.get(keys.ApiKey.partner == acme.id).id
    dashboard_sessions.start(key_id, timedelta(hours=12), now=utcnow() - timedelta(hours=12, seconds=1))
    (live,) = DashboardSession.select().where(DashboardSession.expires_at > utcnow())

    purge_dashboard_sessions()

    assert [row.id for row in DashboardSession.select()] == [live.id]
    assert browser.get("/dashboard/orders").status_code == 200


def test_a_partner_cannot_open_operator_pages(partner_browser):
    browser, acme, price = partner_browser

    response = browser.get("/dashboard/deliveries")

    assert response.status_code == 403 and "text/html" in response.content_type
    assert "This page is for operators" in response.get_data(as_text=True)


def test_an_operator_cannot_open_partner_pages(operator_browser):
    assert operator_browser.get("/dashboard/orders").status_code == 403


def test_unknown_dashboard_pages_are_html_and_the_api_stays_json(operator_browser, client):
    page = operator_browser.get("/dashboard/nowhere")
    api = client.get("/orders/po_nowhere", headers=factories.auth(factories.api_key(keys.OPERATOR)))

    assert page.status_code == 404 and "text/html" in page.content_type
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


def test_pages_allow_no_script_and_are_not_cached(operator_browser):
    response = operator_browser.get("/dashboard/deliveries")

    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
