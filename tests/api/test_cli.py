import json
import re

from models import keys, partners
from models.db import db
from tests.factories import auth


def invoke(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    return result


def test_partners_create_prints_the_id_key_and_secret_as_json(app, client):
    result = invoke(
        app, "partners", "create", "--name", "Acme Broadband", "--webhook-url", "https://acme.example/hooks"
    )

    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
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

    created = json.loads(result.stdout)
    assert created["role"] == "marketplace"
    assert keys.authenticate(created["api_key"]).role == keys.MARKETPLACE
    assert client.post("/products", json={}, headers=auth(created["api_key"])).status_code == 403


def test_a_partner_key_needs_its_partner(app):
    result = invoke(app, "keys", "create", "--role", "partner")

    assert result.exit_code != 0
    assert keys.ApiKey.select().count() == 0


def test_deliveries_requeue_all_dry_runs_then_requeues_with_a_progress_bar(app):
    from models import deliveries
    from models.deliveries import Delivery
    from tests import factories

    acme = factories.partner()
    for n in range(3):
        row = deliveries.create_delivery(acme.id, "order.created", {"id": f"po_{n}"})
        Delivery.update(state=deliveries.DEAD).where(Delivery.id == row.id).execute()

    dry = invoke(app, "deliveries", "requeue-all", "--partner", acme.id, "--dry-run")
    real = invoke(app, "deliveries", "requeue-all", "--partner", acme.id)

    assert json.loads(dry.stdout) == {"dry_run": True, "would_requeue": 3}
    assert '"requeued": 3' in real.stdout
    assert Delivery.select().where(Delivery.state == deliveries.DEAD).count() == 0


def test_deliveries_list_show_and_requeue(app):
    from models import deliveries
    from models.deliveries import Delivery
    from tests import factories

    acme = factories.partner()
    with db.atomic():  # never visible as pending: a leftover wake-up for a reused id must not claim it
        row = deliveries.create_delivery(acme.id, "order.created", {"id": "po_1"})
        Delivery.update(state=deliveries.DEAD).where(Delivery.id == row.id).execute()

    listed = json.loads(invoke(app, "deliveries", "list", "--state", "dead").stdout)
    shown = json.loads(invoke(app, "deliveries", "show", str(row.id)).stdout)
    requeued = json.loads(invoke(app, "deliveries", "requeue", str(row.id)).stdout)

    assert [d["id"] for d in listed["data"]] == [row.id]
    assert shown["webhook_id"] == row.webhook_id and shown["attempts"] == []
    assert requeued == {"delivery_id": row.id, "requeued": True}


def test_partners_enable_and_rotate_secret(app):
    from tests import factories

    acme = factories.partner()
    partners.disable_endpoint(acme.id, "410 Gone")

    enabled = json.loads(invoke(app, "partners", "enable", acme.id).stdout)
    rotated = json.loads(invoke(app, "partners", "rotate-secret", acme.id).stdout)

    assert enabled["endpoint_enabled"] is True and partners.get_partner(acme.id).endpoint_enabled
    assert rotated["webhook_secret"].startswith("whsec_") and rotated["webhook_secret"] != acme.secret
    # The same ISO 8601 form as the API's POST /partners/{id}/secret/rotate.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", rotated["previous_secret_expires_at"])


def test_a_requeue_no_worker_can_hear_says_when_it_will_go(app, monkeypatch):
    # A CLI command beside `make run` has an in-memory broker of its own: its wake-up reaches nobody.
    from api import cli
    from models import deliveries
    from tests import factories

    acme = factories.partner()
    with db.atomic():
        heard_row, unheard_row = (
            deliveries.create_delivery(acme.id, "order.created", {"id": order_id})
            for order_id in ("po_1", "po_2")
        )
        deliveries.Delivery.update(state=deliveries.DEAD).execute()
    heard = invoke(app, "deliveries", "requeue", str(heard_row.id))
    monkeypatch.setattr(cli, "reaches_a_worker", lambda: False)
    unheard = invoke(app, "deliveries", "requeue", str(unheard_row.id))

    assert heard.stderr == ""
    assert "sweeper" in unheard.stderr and "the API and the dashboard re-queue at once" in unheard.stderr
    assert json.loads(unheard.stdout) == {"delivery_id": unheard_row.id, "requeued": True}


def test_keys_list_then_revoke_stops_the_key_at_once(app, client):
    created = json.loads(invoke(app, "keys", "create", "--role", "marketplace").stdout)
    assert client.get("/users/tus_x", headers=auth(created["api_key"])).status_code == 404  # it works

    listed = json.loads(invoke(app, "keys", "list").stdout)["data"]
    revoked = json.loads(invoke(app, "keys", "revoke", created["key_id"]).stdout)
    unknown = invoke(app, "keys", "revoke", "key_nope")

    assert [key["key_id"] for key in listed] == [created["key_id"]] and listed[0]["revoked_at"] is None
    assert "api_key" not in listed[0] and created["api_key"] not in json.dumps(listed)
    assert revoked["revoked_at"] is not None
    assert client.get("/users/tus_x", headers=auth(created["api_key"])).status_code == 401
    assert unknown.exit_code != 0 and "No API key key_nope" in unknown.output
