"""The demo partner answers the order as it is now, and a webhook it could not act on is acted on again."""

from models import keys, orders
from scripts.demo_partner import DemoPartner, PartnerConfig
from tests import factories


def demo_partner_of(order, api_url: str) -> DemoPartner:
    key = keys.issue_key(keys.PARTNER, order.partner)[1]
    return DemoPartner(PartnerConfig(api_url=api_url, api_key=key, webhook_secret="whsec_unused"))


def test_an_order_still_pending_is_answered(live_server):
    order = factories.order()  # its input lacks installation_date

    demo_partner_of(order, live_server).process("msg_1", {"id": order.id})

    assert orders.get_order(order.id).status == orders.NEED_MORE_INFO


def test_a_webhook_for_an_order_settled_since_changes_nothing(live_server):
    order = factories.order(status=orders.FAILED)  # settled by hand while its webhook was retried

    demo_partner_of(order, live_server).process("msg_1", {"id": order.id, "status": "Pending"})

    assert orders.get_order(order.id).status == orders.FAILED


def test_a_webhook_the_partner_could_not_act_on_is_acted_on_when_it_comes_again():
    order = factories.order()
    partner = demo_partner_of(order, "http://127.0.0.1:9")  # Courier's API out of reach
    partner.seen.add("msg_1")  # as receive() records it before answering 204

    partner.process("msg_1", {"id": order.id})

    assert "msg_1" not in partner.seen
