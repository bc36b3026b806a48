"""What caches may keep of an answer, and HSTS over HTTPS."""

from models import keys
from tests import factories
from tests.factories import auth


def test_no_cache_stores_the_api_key_and_secret_of_a_new_partner(client):
    operator = auth(factories.api_key(keys.OPERATOR))

    response = client.post(
        "/partners", json={"name": "Acme", "webhook_url": "https://acme.example/hooks"}, headers=operator
    )

    assert response.status_code == 201 and "webhook_secret" in response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_errors_may_not_be_stored_either(client):
    response = client.get("/orders/nope")

    assert response.status_code == 401
    assert response.headers["Cache-Control"] == "no-store"


def test_a_payments_get_with_an_etag_may_be_kept_only_to_revalidate(client):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))
    buyer = factories.buyer()

    response = client.get(f"/generic/buyer/{buyer.id}/", headers=marketplace)
    again = client.get(
        f"/generic/buyer/{buyer.id}/", headers={**marketplace, "If-None-Match": response.headers["ETag"]}
    )

    assert response.headers["Cache-Control"] == "private, no-cache" and response.headers["ETag"]
    assert again.status_code == 304 and again.headers["Cache-Control"] == "private, no-cache"


def test_static_files_keep_their_own_policy(client):
    response = client.get("/static/dashboard.css")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] != "no-store"


def test_https_answers_tell_browsers_to_stay_on_https(client):
    secure = client.get("/health", base_url="https://courier.example")
    plain = client.get("/health")

    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in plain.headers
