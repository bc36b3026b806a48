"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against the app served on
127.0.0.1 by a real HTTP server, with this tier's worker delivering webhooks to a ``receiver``.

Without ``/usr/bin/chromium`` these tests are skipped, and say why; with ``COURIER_REQUIRE_BROWSER=1``
(CI sets it) they fail instead, so that a machine missing the browser cannot pass for green.
"""

from __future__ import annotations

import os

import pytest

from scripts import browser as system_browser


@pytest.fixture(scope="session")
def chromium():
    if not system_browser.CHROMIUM.exists():
        reason = f"{system_browser.CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("COURIER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"COURIER_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = system_browser.launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh browser context (its own cookies) and page; fails the test on any script error."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.dialogs = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    context.close()


def sign_in(page, base_url: str, api_key: str) -> None:
    page.goto(f"{base_url}/dashboard/")
    page.get_by_label("API key").fill(api_key)
    page.get_by_role("button", name="Sign in").click()
