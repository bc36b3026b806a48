"""A partner whose endpoint hangs does not delay the others."""

import threading
import time

from models import keys
from tests import factories
from tests.factories import auth
from tests.receiver import Receiver, Stall
from workers.isolation import PartnerSlots


def test_a_healthy_partner_gets_a_share_of_the_threads_and_a_failing_one_a_single_slot():
    slots = PartnerSlots(share=0.5, failing_slots=1)
    slots.threads = 8

    taken = [slots.try_acquire("tpp_a", wait=0) for _ in range(5)]
    slots.release("tpp_a", succeeded=False)

    assert taken == [True, True, True, True, False]
    assert not slots.try_acquire("tpp_a")  # failing: 3 in flight, limit 1, and no waiting for one
    assert slots.try_acquire("tpp_b")  # another partner is not affected
    for _ in range(3):
        slots.release("tpp_a", succeeded=True)
    assert slots.try_acquire("tpp_a")  # recovered: back to its share


def test_a_healthy_partners_delivery_waits_a_moment_for_a_slot_instead_of_going_back():
    slots = PartnerSlots(share=0.5, failing_slots=1)
    slots.threads = 2
    assert slots.try_acquire("tpp_a", wait=0)
    threading.Timer(0.05, lambda: slots.release("tpp_a", succeeded=True)).start()

    assert slots.try_acquire("tpp_a", wait=1.0)  # the slot freed while it waited


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
