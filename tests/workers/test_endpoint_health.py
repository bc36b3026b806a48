from datetime import timedelta

from models import partners
from models.base import utcnow
from tests import factories
from workers.endpoint_health import disable_failing_endpoints


def failing_for(span: timedelta) -> factories.PartnerAccount:
    account = factories.partner()
    partners.Partner.update(failing_since=utcnow() - span, consecutive_failures=9).where(
        partners.Partner.id == account.id
    ).execute()
    return account


def test_an_endpoint_failing_for_five_days_is_disabled_without_new_traffic():
    long_failing = failing_for(timedelta(days=5, minutes=1))
    recently_failing = failing_for(timedelta(days=1))
    healthy = factories.partner()

    disable_failing_endpoints()

    assert not partners.get_partner(long_failing.id).endpoint_enabled
    assert "failed for 5 days" in partners.get_partner(long_failing.id).disabled_reason
    assert partners.get_partner(recently_failing.id).endpoint_enabled
    assert partners.get_partner(healthy.id).endpoint_enabled
    assert partners.disable_long_failing(timedelta(days=5)) == []  # idempotent: nothing left to do
