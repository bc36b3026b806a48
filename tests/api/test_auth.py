import pytest

from models import keys
from tests import factories
from tests.factories import auth


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer ck_wrong"}],
)
def test_a_missing_or_wrong_key_is_a_401_json_error(client, headers):
    response = client.get("/products", headers=headers)

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_health_needs_no_key(client):
    assert client.get("/health").get_json() == {"status": "ok"}


def test_keys_are_stored_only_as_digests(client):
    key_row, plaintext = keys.issue_key(keys.MARKETPLACE)

    stored = keys.ApiKey.get_by_id(key_row.id)

    assert plaintext not in (stored.digest, stored.id)
    assert stored.digest == keys.digest(plaintext)
    assert client.get("/products", headers=auth(plaintext)).status_code == 200


def test_a_revoked_key_no_longer_works(client):
    key_row, plaintext = keys.issue_key(keys.OPERATOR)
    keys.ApiKey.update(revoked_at=key_row.created_at).where(keys.ApiKey.id == key_row.id).execute()

    assert client.get("/products", headers=auth(plaintext)).status_code == 401


def test_unknown_routes_and_methods_are_json_errors(client):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))

    missing = client.get("/nowhere", headers=marketplace)
    wrong_method = client.delete("/products", headers=marketplace)

    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["Allow"]
