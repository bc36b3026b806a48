from decimal import Decimal

import pytest

from models import sellers, transactions
from models.currencies import to_minor_units
from models.transactions import CANCELLED, CHECKED, COMPLETED, FAILED, PENDING, RECEIVED, transition_error
from tests import factories

ALL = (PENDING, COMPLETED, CHECKED, RECEIVED, FAILED, CANCELLED)


@pytest.mark.parametrize("current", (PENDING, COMPLETED))
@pytest.mark.parametrize("new", ALL)
def test_pending_and_completed_may_become_anything(current, new):
    assert transition_error(current, new) is None


@pytest.mark.parametrize("current", (FAILED, CANCELLED))
@pytest.mark.parametrize("new", ALL)
def test_failed_and_cancelled_are_final(current, new):
    reason = transition_error(current, new)

    if new == current:
        assert reason is None
    else:
        assert "is final" in reason


@pytest.mark.parametrize("current", (CHECKED, RECEIVED))
@pytest.mark.parametrize("new", ALL)
def test_checked_and_received_may_only_become_completed_or_failed(current, new):
    reason = transition_error(current, new)

    if new in (COMPLETED, FAILED, current):
        assert reason is None
    else:
        assert "can only become Completed or Failed" in reason


@pytest.mark.parametrize(
    "amount, currency, minor",
    [
        ("39.99", "GBP", 3999),
        ("0.62", "GBP", 62),
        ("3999", "JPY", 3999),
        ("1.234", "BHD", 1234),
        ("5", "GBP", 500),
    ],
)
def test_amounts_convert_to_minor_units(amount, currency, minor):
    assert to_minor_units(Decimal(amount), currency) == minor


@pytest.mark.parametrize("amount, currency", [("39.999", "GBP"), ("1.5", "JPY")])
def test_a_fraction_of_a_minor_unit_is_refused(amount, currency):
    with pytest.raises(ValueError, match=currency):
        to_minor_units(Decimal(amount), currency)


def test_an_orders_transaction_points_at_its_partner_product_and_user():
    order = factories.order()

    transaction = factories.transaction(for_order=order)

    product = transaction.seller_product
    assert product.product_id == order.product_id and product.external_id == order.product_id
    assert product.seller.partner_id == order.partner_id
    assert product.seller.uuid == f"courier:{order.partner_id}"
    assert transaction.buyer.uuid == f"courier:{order.user_id}"
    assert (transaction.uid_pay, transaction.order_id) == (order.id, order.id)
    assert (transaction.status, transaction.type) == (transactions.PENDING, transactions.PAYMENT)
    assert transaction.provider == transactions.PROVIDER_COURIER


def test_further_orders_reuse_the_seller_product_and_the_buyer():
    first = factories.order()
    second = factories.order(at=first.price, by=first.user)

    one, two = factories.transaction(for_order=first), factories.transaction(for_order=second)

    assert one.seller_product_id == two.seller_product_id and one.buyer_id == two.buyer_id
    assert sellers.Seller.select().count() == 1 and sellers.SellerProduct.select().count() == 1


def test_a_buyer_made_earlier_for_the_user_is_the_one_used():
    order = factories.order()
    made_by_the_marketplace = factories.buyer(uuid=f"courier:{order.user_id}", pin="1234")

    transaction = factories.transaction(for_order=order)

    assert transaction.buyer_id == made_by_the_marketplace.id
