import pytest

from models import keys
from tests import factories
from tests.factories import auth


@pytest.fixture
def marketplace():
    return auth(factories.api_key(keys.MARKETPLACE))


@pytest.fixture
def operator():
    return auth(factories.api_key(keys.OPERATOR))
