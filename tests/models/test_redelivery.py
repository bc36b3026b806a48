from datetime import timedelta

from models import deliveries, redelivery
from models.base import utcnow
from tests import factories


def test_triage_lists_dead_then_retrying_then_the_rest_newest_first_within_a_state():
    acme = factories.partner()
    now = utcnow()
    rows = {
        name: factories.delivery(acme, state, created_at=now - timedelta(minutes=age))
        for name, state, age in [
            ("ok", deliveries.SUCCEEDED, 0),
            ("old_dead", deliveries.DEAD, 9),
            ("new_dead", deliveries.DEAD, 1),
            ("held", deliveries.HELD, 2),
            ("retrying", deliveries.RETRYING, 5),
        ]
    }

    listed = redelivery.triaged(redelivery.Filters(), limit=10)

    assert [d.id for d in listed] == [rows[n].id for n in ("new_dead", "old_dead", "retrying", "held", "ok")]


def test_triage_resumes_after_a_cursor_within_and_across_states():
    acme = factories.partner()
    now = utcnow()
    dead = [
        factories.delivery(acme, deliveries.DEAD, created_at=now - timedelta(seconds=n)) for n in range(3)
    ]
    retrying = factories.delivery(acme, deliveries.RETRYING)

    page = redelivery.triaged(redelivery.Filters(), limit=2, after=dead[0])

    assert [d.id for d in page] == [dead[1].id, dead[2].id]
    assert [d.id for d in redelivery.triaged(redelivery.Filters(), limit=2, after=dead[2])] == [retrying.id]


def test_triage_keeps_to_the_filters():
    acme, rival = factories.partner(), factories.partner()
    mine = factories.delivery(acme, deliveries.DEAD)
    factories.delivery(acme, deliveries.RETRYING)
    factories.delivery(rival, deliveries.DEAD)

    listed = redelivery.triaged(redelivery.Filters(partner_id=acme.id, state=deliveries.DEAD), limit=10)

    assert [d.id for d in listed] == [mine.id]
