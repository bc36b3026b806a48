import re
from datetime import timedelta

import pytest

from models import deliveries, partners
from models.base import utcnow
from models.deliveries import Attempt
from tests import factories
from tests.helpers import wait_until


def delivery_ids(page: str) -> list[int]:
    """The deliveries a list page links to, in the order shown."""
    return [int(i) for i in re.findall(r'href="/dashboard/deliveries/(\d+)"', page)]


def test_counts_by_state_and_by_partner(operator_browser):
    acme, rival = factories.partner(name="Acme"), factories.partner(name="Rival")
    for state in (deliveries.DEAD, deliveries.DEAD, deliveries.SUCCEEDED):
        factories.delivery(acme, state)
    # Its next attempt ahead, as a retrying delivery's is: a wake-up left over from an earlier test for
    # the same id cannot claim it while the page is counted.
    factories.delivery(rival, deliveries.RETRYING, next_attempt_at=utcnow() + timedelta(hours=1))

    page = operator_browser.get("/dashboard/deliveries").get_data(as_text=True)

    states = dict(re.findall(r'class="state-count state-(\w+)"[^>]*>\w+ <b>(\d+)</b>', page))
    assert states == {
        "dead": "2",
        "retrying": "1",
        "held": "0",
        "pending": "0",
        "delivering": "0",
        "succeeded": "1",
    }
    acme_row = re.search(r">Acme</a></td>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r">(\d+)</td>", acme_row) == ["2", "0", "0", "0", "0", "1"]


def test_the_dead_come_first_then_the_retrying_newest_first_within_each(operator_browser):
    acme = factories.partner()
    ok = factories.delivery(acme, deliveries.SUCCEEDED, (200,))
    retrying = factories.delivery(acme, deliveries.RETRYING, (500,))
    old_dead = factories.delivery(
        acme, deliveries.DEAD, (500, 500, 500), created_at=utcnow() - timedelta(hours=1)
    )
    new_dead = factories.delivery(acme, deliveries.DEAD, (None, 503, 500))

    page = operator_browser.get("/dashboard/deliveries").get_data(as_text=True)

    assert delivery_ids(page) == [new_dead.id, old_dead.id, retrying.id, ok.id]
    assert page.count('class="dot failed"') == 7 and page.count('class="dot ok"') == 1


def test_the_list_pages_on_across_states(operator_browser, monkeypatch):
    from api.dashboard import deliveries as page_module

    monkeypatch.setattr(page_module, "PAGE_SIZE", 2)
    acme = factories.partner()
    dead = [
        factories.delivery(acme, deliveries.DEAD, created_at=utcnow() - timedelta(seconds=n))
        for n in range(2)
    ]
    retrying = factories.delivery(acme, deliveries.RETRYING)

    first = operator_browser.get("/dashboard/deliveries").get_data(as_text=True)
    second = operator_browser.get(f"/dashboard/deliveries?starting_after={dead[1].id}").get_data(as_text=True)

    assert delivery_ids(first) == [dead[0].id, dead[1].id] and "More →" in first
    assert delivery_ids(second) == [retrying.id]


def test_the_filters_are_the_apis(operator_browser):
    acme, rival = factories.partner(), factories.partner()
    mine = factories.delivery(acme, deliveries.DEAD)
    factories.delivery(rival, deliveries.DEAD)
    factories.delivery(acme, deliveries.DEAD, created_at=utcnow() - timedelta(days=2))
    since = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    page = operator_browser.get(
        f"/dashboard/deliveries?partner_id={acme.id}&state=dead&event_type=order.created&created_after={since}"
        "&created_before="
    ).get_data(as_text=True)

    assert delivery_ids(page) == [mine.id]
    assert operator_browser.get("/dashboard/deliveries?state=lost").status_code == 400
    assert operator_browser.get("/dashboard/deliveries?created_after=yesterday").status_code == 400


def test_a_delivery_shows_every_attempt_and_its_body(operator_browser):
    acme = factories.partner(name="Acme")
    dead = factories.delivery(acme, deliveries.DEAD, (None, 503))

    page = operator_browser.get(f"/dashboard/deliveries/{dead.id}").get_data(as_text=True)

    assert dead.webhook_id in page and "Acme" in page
    assert "connection refused" in page and "HTTP 503" in page
    assert '"id": "po_1"' in page
    assert "Re-queue delivery" in page


def test_requeueing_a_dead_delivery_sends_it_again_with_its_webhook_id(operator_browser, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    dead = factories.delivery(acme, deliveries.DEAD, (500, 500, 500))

    response = operator_browser.post(f"/dashboard/deliveries/{dead.id}/requeue")

    assert response.status_code == 302 and response.location == f"/dashboard/deliveries/{dead.id}"
    assert "goes out now" in operator_browser.get(response.location).get_data(as_text=True)
    assert receiver.wait_for(1)[0].headers["webhook-id"] == dead.webhook_id
    wait_until(lambda: deliveries.get_delivery(dead.id).state == deliveries.SUCCEEDED)
    assert (
        Attempt.select().where(Attempt.delivery == dead.id).order_by(Attempt.id.desc()).first().trigger
        == "manual"
    )


def test_a_held_delivery_is_not_requeued_while_its_endpoint_is_disabled(operator_browser):
    acme = factories.partner()
    held = factories.delivery(acme, deliveries.HELD)
    partners.disable_endpoint(acme.id, "410 Gone")

    response = operator_browser.post(f"/dashboard/deliveries/{held.id}/requeue")

    assert "is disabled; enable it first" in operator_browser.get(response.location).get_data(as_text=True)
    assert deliveries.get_delivery(held.id).state == deliveries.HELD


def test_requeueing_all_matching_confirms_the_count_first(operator_browser, receiver):
    acme, rival = factories.partner(webhook_url=receiver.url), factories.partner(webhook_url=receiver.url)
    failed = [factories.delivery(acme, state) for state in (deliveries.DEAD, deliveries.RETRYING)]
    factories.delivery(acme, deliveries.SUCCEEDED)
    factories.delivery(rival, deliveries.DEAD)

    confirm = operator_browser.get(f"/dashboard/deliveries/requeue?partner_id={acme.id}").get_data(
        as_text=True
    )

    assert "Re-queue 2 deliveries?" in confirm
    assert receiver.received == []  # asking is not doing
    response = operator_browser.post("/dashboard/deliveries/requeue", {"partner_id": acme.id})
    assert response.location == f"/dashboard/deliveries?partner_id={acme.id}"
    assert "Re-queued 2 deliveries" in operator_browser.get(response.location).get_data(as_text=True)
    received = {request.headers["webhook-id"] for request in receiver.wait_for(2)}
    assert received == {delivery.webhook_id for delivery in failed}


def test_the_charts_show_the_last_hours_attempts(operator_browser):
    acme = factories.partner()
    webhook = factories.delivery(acme, deliveries.SUCCEEDED, (500, 200))
    a_minute_ago = utcnow().replace(second=30) - timedelta(minutes=1)
    for n, attempt in enumerate(webhook.attempts.order_by(Attempt.id)):
        Attempt.update(attempted_at=a_minute_ago + timedelta(seconds=n)).where(
            Attempt.id == attempt.id
        ).execute()

    page = operator_browser.get("/dashboard/deliveries").get_data(as_text=True)

    assert '1 succeeded</b>, <b class="failed">1 failed' in page
    assert re.search(r"<title>\d\d:\d\d UTC: 1 succeeded, 1 failed</title>", page)
    assert "Attempt latency, last hour" in page and "<title>p99: 120 ms</title>" in page


def test_names_url_for_reserves_in_a_query_string_are_left_out_of_the_pages_links(partner_browser):
    browser, acme, price = partner_browser
    for _ in range(2):
        factories.product(acme)

    page = browser.get("/dashboard/products?limit=1&_method=POST&_anchor=x&_external=1")

    assert page.status_code == 200
    older = re.search(r'href="([^"]*starting_after[^"]*)"', page.get_data(as_text=True)).group(1)
    assert "_method" not in older and "#x" not in older and older.startswith("/dashboard/products?")


def test_a_nul_character_in_a_form_is_refused_and_requeues_nothing(operator_browser, receiver):
    acme = factories.partner(webhook_url=receiver.url)
    dead = factories.delivery(acme, deliveries.DEAD)

    response = operator_browser.post("/dashboard/deliveries/requeue", {"partner_id": acme.id + "\x00"})

    assert response.status_code == 400 and "NUL character" in response.get_data(as_text=True)
    assert deliveries.get_delivery(dead.id).state == deliveries.DEAD


@pytest.mark.parametrize(
    ("browser_fixture", "path"),
    [
        ("operator_browser", "/dashboard/deliveries?starting_after=%C2%B2"),
        ("operator_browser", "/dashboard/deliveries?starting_after=99999999999999999999"),
        ("operator_browser", "/dashboard/conflicts?starting_after=%C2%B2"),
        ("operator_browser", "/dashboard/conflicts?starting_after=99999999999999999999"),
        ("partner_browser", "/dashboard/orders?limit=%C2%B2"),
        ("partner_browser", "/dashboard/products?limit=%C2%B2"),
    ],
)
def test_a_cursor_or_limit_no_integer_can_be_is_a_400_page(request, browser_fixture, path):
    browser = request.getfixturevalue(browser_fixture)
    browser = browser[0] if isinstance(browser, tuple) else browser

    response = browser.get(path)

    assert response.status_code == 400 and "<html" in response.get_data(as_text=True)
