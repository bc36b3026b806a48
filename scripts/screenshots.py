"""Screenshots of the dashboard's main pages for the README: ``python -m scripts.screenshots``.

Seeds demo data into a temporary SQLite database, serves the app on 127.0.0.1, signs in as a partner
and as an operator in Chromium (scripts/browser.py), and saves PNGs under ``docs/``.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

import settings as settings_module
from models import orders
from scripts import browser, demo_data
from scripts.migrate import migrate

DOCS = settings_module.PROJECT_ROOT / "docs"


def sign_in(page: Page, base_url: str, api_key: str) -> None:
    page.goto(f"{base_url}/dashboard/sign-in")
    page.fill("#api_key", api_key)
    page.click("button[type=submit]")


def expired_order_id(partner_id: str) -> str:
    """The partner's newest order whose window ended without an answer: the page a partner opens."""
    order = (
        orders.Order.select()
        .where((orders.Order.partner == partner_id) & orders.unanswered_after_window())
        .order_by(orders.Order.created_at.desc())
        .first()
    )
    return order.id


def capture(base_url: str, seeded: demo_data.Seeded, out: Path) -> list[Path]:
    saved = []

    def shoot(page: Page, name: str) -> None:
        path = out / f"dashboard-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)

    with sync_playwright() as playwright:
        chromium = browser.launch(playwright)
        partner = chromium.new_page(viewport={"width": 1280, "height": 800})
        partner.goto(f"{base_url}/dashboard/sign-in")
        shoot(partner, "sign-in")
        sign_in(partner, base_url, seeded.partner_key)
        partner.goto(f"{base_url}/dashboard/orders?status=Pending&expired=1")
        shoot(partner, "orders")
        partner.goto(f"{base_url}/dashboard/orders/{expired_order_id(seeded.partner_ids[0])}")
        shoot(partner, "order")
        operator = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
        sign_in(operator, base_url, seeded.operator_key)
        operator.goto(f"{base_url}/dashboard/deliveries")
        shoot(operator, "deliveries")
        operator.goto(f"{base_url}/dashboard/partners")
        shoot(operator, "partners")
        operator.goto(f"{base_url}/dashboard/conflicts")
        shoot(operator, "conflicts")
        chromium.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="courier-screenshots-") as tmp:
        settings = replace(settings_module.load(), database_url=f"sqlite:///{tmp}/courier.db", redis_url=None)
        migrate(settings.database_url)
        seeded = demo_data.seed(order_count=600, attempt_count=900)

        from api import create_app

        server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            for path in capture(f"http://127.0.0.1:{server.server_port}", seeded, args.out):
                print(
                    path.relative_to(settings_module.PROJECT_ROOT)
                    if path.is_relative_to(settings_module.PROJECT_ROOT)
                    else path
                )
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
