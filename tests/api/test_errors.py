import peewee

from models import keys
from tests import factories
from tests.factories import auth


def test_a_database_that_cannot_be_reached_is_a_503_the_client_may_retry(client, monkeypatch):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))

    def unreachable(*args, **kwargs):
        raise peewee.OperationalError("connection to server at 127.0.0.1, port 5432 failed")

    monkeypatch.setattr(keys, "authenticate", unreachable)
    response = client.get("/orders", headers=marketplace)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["error"]["code"] == "service_unavailable"
    assert "5432" not in response.get_data(as_text=True)  # no internals leak to the client


def test_an_unexpected_error_is_a_500_without_a_traceback(client, monkeypatch):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(keys, "authenticate", broken)
    response = client.get("/orders", headers=marketplace)

    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "secret internals" not in response.get_data(as_text=True)
