"""Schemathesis fuzzes every operation in /openapi.json: no input gets a server error, and every
response matches the document.

With every test run it tries a few examples per operation, the same ones each time (a failure in CI
is about the change under test, and can be replayed). ``make fuzz`` explores: FUZZ_EXAMPLES per
operation, drawn afresh.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

import settings as settings_module
from api import create_app
from models import keys
from tests import factories
from tests.factories import auth

# Loaded when the module is collected (schemathesis's lazy fixture loader does not run on this pytest);
# the app binds the database the test run already uses.
schema = schemathesis.openapi.from_wsgi("/openapi.json", create_app(settings_module.load()))


@pytest.fixture
def catalogue():
    """Something to find: a partner's product, a price, a user, an order and its payment transaction,
    a buyer with a PIN, and a seller's product."""
    acme = factories.partner()
    price = factories.price(factories.product(acme))
    order = factories.order(at=price)
    factories.transaction(for_order=order)
    factories.buyer(pin="1234", confirmed=True)
    factories.seller_product()
    return order


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 12)),
    derandomize="FUZZ_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gets_a_server_error_or_an_undocumented_response(case, catalogue):
    case.call_and_validate(
        headers=auth(factories.api_key(keys.OPERATOR)),
        checks=[not_a_server_error, response_schema_conformance],
    )
