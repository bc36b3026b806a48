"""The whole of Courier in one process, for a laptop: ``make run`` (or ``python -m scripts.run``).

With neither ``DATABASE_URL`` nor ``REDIS_URL`` set it uses SQLite in ``var/`` and Dramatiq's
in-memory broker. It starts, in this process: the API, Dramatiq worker threads, the clock's periodic
jobs, and a demo partner that answers orders. It prints the URLs and the demo credentials, then places
one order and shows it go from Pending to its final status.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import threading
import time
from pathlib import Path

import dramatiq
import requests
from werkzeug.serving import make_server

import settings as settings_module
from models import catalogue, keys, partners, users
from models.db import db
from scripts.migrate import migrate
from telemetry.logs import configure_logging

DEFAULT_CREDENTIALS = settings_module.PROJECT_ROOT / "var" / "demo-credentials.json"

logger = logging.getLogger("courier")


def demo_credentials(path: Path, webhook_url: str) -> dict[str, str]:
    """The demo's partner, keys and catalogue, made on the first run and reused after."""
    saved = json.loads(path.read_text()) if path.exists() else {}
    if saved and keys.authenticate(saved.get("operator_key", "")) is not None:
        partners.Partner.update(webhook_url=webhook_url).where(
            partners.Partner.id == saved["partner_id"]
        ).execute()
        return saved
    with db.atomic():
        partner, secret = partners.create_partner("Demo Broadband Ltd", webhook_url)
        product = catalogue.create_product(
            partner.id,
            {
                "name": "Superfast Fibre 500",
                "description": "Full-fibre broadband, 500 Mb/s down.",
                "enabled": True,
                "meta": {"speed_mbps": "500", "contract_months": "18"},
                "product_type": "utilities_broadband",
            },
        )
        price = catalogue.create_price(
            product, {"name": "Monthly payment", "currency": "GBP", "amount": 3999}
        )
        user = users.create_user(
            {
                "first_name": "Lisa",
                "last_name": "Nichols",
                "email": "lisa.nichols@example.com",
                "address_line1": "1 Example Street",
                "city": "London",
                "postcode": "N1 9GU",
                "country": "GB",
            }
        )
        saved = {
            "partner_id": partner.id,
            "partner_key": keys.issue_key(keys.PARTNER, partner)[1],
            "webhook_secret": secret,
            "marketplace_key": keys.issue_key(keys.MARKETPLACE)[1],
            "operator_key": keys.issue_key(keys.OPERATOR)[1],
            "prod_id": product.id,
            "pricing_id": price.id,
            "tpp_user_id": user.id,
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=2))
    return saved


def serve_in_background(server, name: str) -> None:
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()


def place_demo_order(api_url: str, creds: dict[str, str]) -> None:
    """Place an order as the marketplace would and print its status until it settles."""
    marketplace = requests.Session()
    marketplace.headers["Authorization"] = f"Bearer {creds['marketplace_key']}"
    started = time.monotonic()
    response = marketplace.post(
        f"{api_url}/orders",
        json={
            "prod_id": creds["prod_id"],
            "pricing_id": creds["pricing_id"],
            "tpp_user_id": creds["tpp_user_id"],
            "input": {"installation_date": "2026-12-01", "sort_code": "11-22-33"},
        },
        timeout=10,
    )
    response.raise_for_status()
    order = response.json()
    print(f"\nDemo order {order['id']}: {order['status']}", flush=True)
    while order["status"] == "Pending" and time.monotonic() - started < 10:
        time.sleep(0.02)
        order = marketplace.get(f"{api_url}/orders/{order['id']}", timeout=10).json()
    elapsed = time.monotonic() - started
    output = json.dumps(order["output"])
    print(f"Demo order {order['id']}: {order['status']} after {elapsed:.3f}s, output {output}\n")


def banner(api_url: str, partner_url: str, creds: dict[str, str], credentials_path: Path) -> str:
    order = json.dumps(
        {
            "prod_id": creds["prod_id"],
            "pricing_id": creds["pricing_id"],
            "tpp_user_id": creds["tpp_user_id"],
            "input": {"installation_date": "2026-12-01"},
        }
    )
    return f"""
Courier is running.
  API            {api_url}            (GET {api_url}/health)
  dashboard      {api_url}/dashboard  (sign in with the partner or the operator key)
  demo partner   {partner_url}
  credentials    {credentials_path}

  marketplace key  {creds["marketplace_key"]}
  partner key      {creds["partner_key"]}
  operator key     {creds["operator_key"]}
  webhook secret   {creds["webhook_secret"]}

Place an order as the marketplace:
  curl -s {api_url}/orders -H 'Authorization: Bearer {creds["marketplace_key"]}' \\
    -d '{order}'
Then read it back:
  curl -s {api_url}/orders/<order id> -H 'Authorization: Bearer {creds["marketplace_key"]}'

Press Ctrl-C to stop."""


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the whole of Courier in one process.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--partner-port", type=int, default=None)
    parser.add_argument(
        "--credentials", type=Path, default=DEFAULT_CREDENTIALS, help="where the demo keys are kept"
    )
    parser.add_argument("--no-demo-order", action="store_true", help="skip placing the demo order")
    args = parser.parse_args()
    configure_logging("WARNING")  # the banner and the demo order tell the story; logs only what is wrong
    # Werkzeug sets its own logger to INFO when it first logs, and would write a line per request.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("demo_partner").setLevel(logging.INFO)

    # The demo partner is on this machine: let deliveries reach a loopback address. This must come before
    # anything imports the workers package, whose broker reads the settings once, when it is imported.
    os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "1")
    settings = settings_module.load()
    migrate(settings.database_url, settings.database_pool_size)

    from api import create_app
    from scripts import clock
    from scripts.demo_partner import DemoPartner, PartnerConfig
    from scripts.demo_partner import make_server as make_partner_server
    from workers.broker import broker

    app = create_app(settings)
    host = "127.0.0.1"
    api_url = f"http://{host}:{args.port}"
    partner_port = args.partner_port or args.port + 1
    partner_url = f"http://{host}:{partner_port}/webhooks"

    with app.app_context():
        creds = demo_credentials(args.credentials, partner_url)

    worker = dramatiq.Worker(broker, worker_threads=8, worker_timeout=100)
    worker.start()
    partner = DemoPartner(PartnerConfig(api_url, creds["partner_key"], creds["webhook_secret"]))
    serve_in_background(make_partner_server(partner, host, partner_port), "demo-partner")
    api_server = make_server(host, args.port, app, threaded=True)
    serve_in_background(api_server, "api")
    stop = threading.Event()
    threading.Thread(target=clock.run, args=(stop,), name="clock", daemon=True).start()

    print(banner(api_url, partner_url, creds, args.credentials), flush=True)
    if not args.no_demo_order:
        place_demo_order(api_url, creds)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping…")
    finally:
        stop.set()
        api_server.shutdown()
        worker.stop()


if __name__ == "__main__":
    main()
