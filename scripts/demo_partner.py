"""A demo partner (TPP), written the way the integration guide tells a partner to work.

It receives each order on its webhook, checks the signature, answers 2xx at once, and then, off the
request: looks up the product, the price and the user through Courier's API and settles the order
with ``POST /orders/{id}``. An order whose input lacks ``installation_date`` is answered
``Need_more_info``; one whose input says ``"simulate": "failure"`` is answered ``Failed``.

    python -m scripts.demo_partner --api http://127.0.0.1:8000 --key ck_... --secret whsec_... --port 8001

``make run`` starts it inside the embedded system; run alone, it is a partner for any Courier.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from workers.signing import InvalidSignature, verify

logger = logging.getLogger("demo_partner")

REQUIRED_INPUT = "installation_date"


@dataclass
class PartnerConfig:
    api_url: str
    api_key: str
    webhook_secret: str


class DemoPartner:
    """What the partner does with an order: look things up, decide, answer."""

    def __init__(self, config: PartnerConfig) -> None:
        self.config = config
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {config.api_key}"
        # Orders are processed off the webhook request, a few at a time.
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="demo-partner")
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def _get(self, path: str) -> dict:
        response = self.session.get(self.config.api_url + path, timeout=10)
        response.raise_for_status()
        return response.json()

    def decide(self, order: dict) -> tuple[str, dict[str, str]]:
        product = self._get(f"/products/{order['prod_id']}")
        price = self._get(f"/products/{order['prod_id']}/pricing/{order['pricing_id']}")
        user = self._get(f"/users/{order['tpp_user_id']}")
        if order["input"].get("simulate") == "failure":
            return "Failed", {"error": "PBX Over capacity"}
        if REQUIRED_INPUT not in order["input"]:
            return "Need_more_info", {"required_fields": REQUIRED_INPUT}
        return "Succesful", {
            "account_reference": "DEMO-" + order["id"][-8:].upper(),
            "summary": (
                f"{product['name']} ({price['name']}, {price['amount']} {price['currency']} minor units) "
                f"for {user['first_name']} {user['last_name']}, {user.get('postcode') or 'no postcode'}"
            ),
        }

    def process(self, webhook_id: str, order: dict) -> None:
        try:
            # The order as it is now: a webhook retried for hours may describe an order since settled
            # by hand, or one whose input has been added to (deliveries may also arrive out of order).
            order = self._get(f"/orders/{order['id']}")
            if order["status"] != "Pending":
                logger.info("order %s is %s already: nothing to do", order["id"], order["status"])
                return
            status, output = self.decide(order)
            response = self.session.post(
                f"{self.config.api_url}/orders/{order['id']}",
                json={"status": status, "output": output},
                timeout=10,
            )
            response.raise_for_status()
            logger.info("order %s -> %s", order["id"], status)
        except requests.RequestException:
            logger.exception("could not settle order %s", order["id"])
            with self.lock:  # a redelivery of this webhook is handled again
                self.seen.discard(webhook_id)

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        """Handle one webhook request; return the status code to answer with."""
        try:
            verify(self.config.webhook_secret, headers, body)
        except InvalidSignature as exc:
            logger.warning("rejected a webhook: %s", exc)
            return 401
        webhook_id = headers.get("webhook-id") or headers.get("Webhook-Id") or ""
        with self.lock:
            if webhook_id in self.seen:  # a redelivery of one already handled
                return 204
            self.seen.add(webhook_id)
        self.pool.submit(self.process, webhook_id, json.loads(body))
        return 204


def make_server(partner: DemoPartner, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = partner.receive(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):  # keep the console for the demo's own story
            logger.debug(format, *args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api", required=True, help="Courier's base URL")
    parser.add_argument("--key", required=True, help="the partner's API key")
    parser.add_argument("--secret", required=True, help="the partner's webhook secret (whsec_...)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    partner = DemoPartner(PartnerConfig(args.api.rstrip("/"), args.key, args.secret))
    server = make_server(partner, args.host, args.port)
    print(f"demo partner listening on http://{args.host}:{args.port}/webhooks")
    server.serve_forever()


if __name__ == "__main__":
    main()
