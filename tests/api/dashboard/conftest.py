"""Dashboard clients: signed in through the sign-in form, posting forms with their CSRF token."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from models import keys
from tests import factories


class Browser:
    """A test client used the way a browser uses the dashboard: forms, cookies, the CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def csrf_token(self) -> str:
        page = self.client.get("/dashboard/sign-in").get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def post(self, path: str, data: dict | None = None, **kwargs):
        """Submit a form as the page would, token included."""
        return self.client.post(path, data={"csrf_token": self.csrf_token(), **(data or {})}, **kwargs)

    def sign_in(self, api_key: str):
        return self.post("/dashboard/sign-in", {"api_key": api_key})


@pytest.fixture
def browser(app) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def partner_browser(browser):
    """A partner with a product, a price and a customer, signed in to the dashboard."""
    acme = factories.partner(name="Acme Broadband")
    product = factories.product(acme, name="Superfast Fibre 500")
    price = factories.price(product)
    assert browser.sign_in(acme.api_key).status_code == 302
    return browser, acme, price


@pytest.fixture
def operator_browser(browser):
    assert browser.sign_in(factories.api_key(keys.OPERATOR)).status_code == 302
    return browser
