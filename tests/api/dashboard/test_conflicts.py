"""Operators' reconciliation conflicts: orders whose payment transaction reconciliation may not move."""

import html
import re
from datetime import timedelta

import pytest

from models import keys, reconciliation, transactions
from models.base import utcnow
from models.reconciliation import ReconciliationConflict
from models.transactions import CANCELLED, FAILED, Transaction
from tests import factories
from tests.api.dashboard.test_query_counts import statements_for
from tests.factories import auth
from tests.helpers import wait_until


@pytest.fixture
def marketplace():
    return auth(factories.api_key(keys.MARKETPLACE))


def conflicting_order(client, marketplace, partner=None, price=None, becomes=CANCELLED, notes=None):
    """An order placed through the API whose payment the buyer's side then ends (Cancelled or Failed,
    by a PATCH of its transaction), and which its partner settles as Succesful anyway: the worker's
    reconciliation records the conflict. Returns the order's and the transaction's ids."""
    partner = partner or factories.partner()
    price = price or factories.price(factories.product(partner))
    body = {"prod_id": price.product_id, "pricing_id": price.id, "tpp_user_id": factories.user().id}
    placed = client.post("/orders", json=body, headers=marketplace)
    assert placed.status_code == 201
    order_id = placed.get_json()["id"]
    transaction = Transaction.get(Transaction.order == order_id)
    change = {"status": becomes, **({"notes": notes} if notes is not None else {})}
    ended = client.patch(f"/generic/transaction/{transaction.id}/", json=change, headers=marketplace)
    assert ended.status_code == 202
    answer = {"status": "Succesful", "output": {}}
    assert client.post(f"/orders/{order_id}", json=answer, headers=partner.headers).status_code == 200
    recorded = ReconciliationConflict.select().where(ReconciliationConflict.order == order_id)
    wait_until(recorded.exists)
    return order_id, transaction.id


def text(cell: str) -> str:
    """A cell as it reads: tags dropped, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())


def rows(page: str) -> list[list[str]]:
    """The conflicts table's rows, each a list of its cells' text."""
    body = re.search(r'<table class="list conflicts" id="conflicts">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, "the page has no conflicts table"
    return [
        [text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


def test_an_operator_sees_each_conflict_with_its_order_and_transaction(client, marketplace, operator_browser):
    acme = factories.partner(name="Acme <Broadband> & Co")
    gbp = factories.price(factories.product(acme), currency="GBP", amount=123456)
    yen = factories.price(factories.product(acme), currency="JPY", amount=5000)
    older, older_transaction = conflicting_order(client, marketplace, acme, yen, becomes=FAILED)
    ReconciliationConflict.update(detected_at=utcnow() - timedelta(minutes=5)).where(
        ReconciliationConflict.order == older
    ).execute()
    newer, newer_transaction = conflicting_order(
        client, marketplace, acme, gbp, notes='<script>alert("x")</script> refunded by hand'
    )

    response = operator_browser.get("/dashboard/conflicts")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = rows(page)
    assert [row[1:] for row in shown] == [
        [
            f"{newer} Succesful",
            "Acme <Broadband> & Co",
            f"/generic/transaction/{newer_transaction}/ Cancelled",
            "1,234.56 GBP",
            "Completed",
            '<script>alert("x")</script> refunded by hand',
        ],
        [
            f"{older} Succesful",
            "Acme <Broadband> & Co",
            f"/generic/transaction/{older_transaction}/ Failed",
            "5,000 JPY",
            "Completed",
            "none yet",
        ],
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", shown[0][0])
    assert "Acme &lt;Broadband&gt; &amp; Co" in page and "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "PATCH /generic/transaction/{id}/" in page  # what an operator can do about it
    assert re.search(r'aria-current="page">Conflicts <span class="nav-count"[^>]*>2</span>', page)
    assert transactions.get_transaction(newer_transaction).status == CANCELLED  # never overwritten


def test_the_list_pages_newest_first(client, marketplace, operator_browser):
    found = [conflicting_order(client, marketplace)[0] for _ in range(3)]

    first = operator_browser.get("/dashboard/conflicts?limit=2").get_data(as_text=True)
    older = re.search(r'href="(/dashboard/conflicts\?[^"]*starting_after=\d+[^"]*)"', first)
    second = operator_browser.get(html.unescape(older.group(1))).get_data(as_text=True)

    assert [row[1].split()[0] for row in rows(first)] == [found[2], found[1]]
    assert [row[1].split()[0] for row in rows(second)] == [found[0]]


def test_with_no_conflicts_the_page_says_so(operator_browser):
    page = operator_browser.get("/dashboard/conflicts").get_data(as_text=True)

    assert "No conflicts: every order's payment transaction has followed its answer." in page
    assert 'id="conflicts"' not in page and "nav-count" not in page


def test_a_partner_cannot_open_the_conflicts_page(client, marketplace, partner_browser):
    browser, acme, price = partner_browser
    conflicting_order(client, marketplace, acme, price)

    response = browser.get("/dashboard/conflicts")

    assert response.status_code == 403 and "text/html" in response.content_type
    page = response.get_data(as_text=True)
    assert "This page is for operators" in page
    assert "/dashboard/conflicts" not in page  # nor is it in a partner's nav


def test_signed_out_visitors_are_sent_to_sign_in(browser):
    response = browser.get("/dashboard/conflicts")

    assert response.status_code == 302 and "/dashboard/sign-in" in response.headers["Location"]


def test_the_page_costs_the_same_for_1_conflict_as_for_6(client, marketplace, operator_browser):
    conflicting_order(client, marketplace)
    few = statements_for(operator_browser, "/dashboard/conflicts")

    for _ in range(5):
        conflicting_order(client, marketplace, becomes=FAILED)

    assert reconciliation.conflict_count() == 6
    assert statements_for(operator_browser, "/dashboard/conflicts") == few
