"""A partner whose endpoint hangs does not delay the others."""

import threading
import time

from models import keys
from tests import factories
from tests.factories import auth
from tests.receiver import Receiver, Stall
from workers.isolation import PartnerSlots


def test_a_healthy_partner_gets_a_share_of_the_threads_and_a_failing_one_a_single_slot():
    slots = PartnerSlots(share=0.5, failing_slots=1, timeout=1)
    slots.threads = 8
    tokens = [slots.acquire("tpp_a") for _ in range(4)]
    slots.release("tpp_a", tokens.pop(), succeeded=False)

    assert all(tokens)
    assert slots.acquire("tpp_a") is None  # failing: 3 in flight, limit 1, and no waiting for one
    assert slots.acquire("tpp_b") is not None  # another partner is not affected
    for token in tokens:
        slots.release("tpp_a", token, succeeded=True)
    assert slots.acquire("tpp_a") is not None  # recovered: back to its share


def test_a_partner_that_is_answering_gets_its_next_slot_by_waiting_not_by_going_back():
    slots = PartnerSlots(share=0.5, failing_slots=1, timeout=10)
    slots.threads = 2
    first = slots.acquire("tpp_a")
    threading.Timer(0.1, lambda: slots.release("tpp_a", first, succeeded=True)).start()

    assert slots.acquire("tpp_a") is not None  # the slot freed while it waited


def test_a_partner_whose_requests_have_gone_quiet_gets_no_waiting():
    slots = PartnerSlots(share=0.5, failing_slots=1, timeout=10)
    slots.threads = 2
    assert slots.acquire("tpp_a") is not None
    time.sleep(0.3)  # its request has been out longer than it may while answering (0.25 s at least)

    started = time.monotonic()
    assert slots.acquire("tpp_a") is None
    assert time.monotonic() - started < 0.1


def test_other_partners_deliveries_flow_while_one_endpoint_hangs(client, receiver):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))
    with Receiver() as hanging_endpoint:
        hanging_endpoint.always(Stall(3))  # longer than the 1 s timeout, on every request
        stuck = factories.partner(webhook_url=hanging_endpoint.url)
        healthy = factories.partner(webhook_url=receiver.url)
        stuck_price, healthy_price = (
            factories.price(factories.product(stuck)),
            factories.price(factories.product(healthy)),
        )
        user = factories.user()

        def place(price):
            body = {"prod_id": price.product_id, "pricing_id": price.id, "tpp_user_id": user.id}
            assert client.post("/orders", json=body, headers=marketplace).status_code == 201
            return time.monotonic()

        for _ in range(12):  # more than all the worker's threads
            place(stuck_price)
        hanging_endpoint.wait_for(1)
        latencies = []
        for n in range(10):
            placed = place(healthy_price)
            arrived = receiver.wait_for(n + 1, timeout=10)[n].at
            latencies.append(arrived - placed)

    assert max(latencies) < 1.0, latencies
