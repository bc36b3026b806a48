import json

from models import keys, partners
from tests.factories import auth


def invoke(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    return result


def test_partners_create_prints_the_id_key_and_secret_as_json(app, client):
    result = invoke(
        app, "partners", "create", "--name", "Acme Broadband", "--webhook-url", "https://acme.example/hooks"
    )

    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["partner_id"].startswith("tpp_")
    assert created["webhook_secret"].startswith("whsec_")
    assert partners.get_partner(created["partner_id"]).webhook_url == "https://acme.example/hooks"
    assert client.get("/products", headers=auth(created["api_key"])).status_code == 200


def test_partners_create_refuses_a_bad_url_and_writes_nothing(app):
    result = invoke(app, "partners", "create", "--name", "Acme", "--webhook-url", "acme.example")

    assert result.exit_code != 0
    assert "webhook" in result.output.lower()
    assert partners.Partner.select().count() == 0


def test_keys_create_prints_a_working_key_of_the_role(app, client):
    result = invoke(app, "keys", "create", "--role", "marketplace")

    created = json.loads(result.output)
    assert created["role"] == "marketplace"
    assert keys.authenticate(created["api_key"]).role == keys.MARKETPLACE
    assert client.post("/products", json={}, headers=auth(created["api_key"])).status_code == 403


def test_a_partner_key_needs_its_partner(app):
    result = invoke(app, "keys", "create", "--role", "partner")

    assert result.exit_code != 0
    assert keys.ApiKey.select().count() == 0
