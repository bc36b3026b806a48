"""Migrations: numbered files applied in order, once; upgrading a database keeps what it holds."""

import os
import subprocess
import sys
import uuid

import pytest
from playhouse.db_url import connect
from playhouse.migrations import Runner

from models import MODELS, catalogue, deliveries, keys, orders, partners, users
from models.db import db
from scripts.migrate import MIGRATIONS, migrate
from tests.conftest import (
    PROJECT_ROOT,
    SERVER_DATABASE_URL,
    SERVICE_TIER,
    _create_postgres_database,
    _drop_postgres_database,
    _with_database,
)

FIRST = "0001_initial"
API_KEY = "ck_first-schema-key"


def test_migrating_an_up_to_date_database_changes_nothing(settings):
    assert migrate(settings.database_url, settings.database_pool_size) == []
    tables = set(db.get_tables())
    assert {model._meta.table_name for model in MODELS} <= tables


@pytest.fixture
def scratch_url(tmp_path):
    """An empty database of its own, on this tier's server."""
    if not SERVICE_TIER:
        yield f"sqlite:///{tmp_path}/upgrade.db"
        return
    name = f"courier_upgrade_{uuid.uuid4().hex[:10]}"
    _create_postgres_database(SERVER_DATABASE_URL, name)
    yield _with_database(SERVER_DATABASE_URL, name)
    _drop_postgres_database(SERVER_DATABASE_URL, name)


def insert(database, table: str, **row) -> None:
    marks = ", ".join([database.param] * len(row))
    columns = ", ".join(f'"{name}"' for name in row)
    database.execute_sql(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', tuple(row.values()))


def populate_first_schema(database) -> None:
    """One of everything, written as the first schema's columns held it."""
    at = "2026-01-15 09:30:00.123000"
    insert(
        database,
        "partner",
        id="tpp_1",
        name="Acme",
        webhook_url="https://acme.example/hooks",
        created_at=at,
        failing_since=at,
        consecutive_failures=2,
    )
    insert(database, "webhook_secret", partner_id="tpp_1", secret="whsec_c2VjcmV0", created_at=at)
    insert(
        database,
        "api_key",
        id="key_1",
        role="partner",
        partner_id="tpp_1",
        digest=keys.digest(API_KEY),
        created_at=at,
    )
    insert(
        database,
        "product",
        id="prod_1",
        partner_id="tpp_1",
        name="Fibre 500",
        description="Fast.",
        enabled=True,
        meta='{"speed_mbps":"500"}',
        product_type="utilities_broadband",
        created_at=at,
        updated_at=at,
    )
    insert(
        database,
        "price",
        id="price_1",
        product_id="prod_1",
        name="Monthly",
        currency="GBP",
        amount=3999,
        created_at=at,
    )
    insert(
        database,
        "end_user",
        id="tus_1",
        first_name="Lisa",
        last_name="Nichols",
        email="lisa@example.com",
        date_of_birth="1990-02-03",
        postcode="N1 9GU",
        created_at=at,
    )
    insert(
        database,
        "purchase_order",
        id="po_1",
        partner_id="tpp_1",
        product_id="prod_1",
        price_id="price_1",
        user_id="tus_1",
        status="Succesful",
        input='{"installation_date":"2026-12-01"}',
        output='{"ref":"A1"}',
        created_at=at,
        updated_at=at,
        answered_at=at,
        window_round=1,
        window_started_at=at,
        window_ends_at=at,
    )
    insert(
        database,
        "delivery",
        id=1,
        webhook_id="msg_1",
        partner_id="tpp_1",
        order_id="po_1",
        event_type="order.created",
        payload='{"id":"po_1"}',
        state="succeeded",
        attempt_count=1,
        next_trigger="scheduled",
        created_at=at,
        last_attempt_at=at,
        delivered_at=at,
    )
    insert(database, "attempt", id=1, delivery_id=1, attempted_at=at, url="https://acme.example/hooks",
           status_code=200, duration_ms=42, trigger="scheduled")  # fmt: skip
    # The same attempt logged twice (its batch's commit answer lost), and a later one.
    insert(database, "attempt", id=2, delivery_id=1, attempted_at=at, url="https://acme.example/hooks",
           status_code=200, duration_ms=42, trigger="scheduled")  # fmt: skip
    insert(database, "attempt", id=3, delivery_id=1, attempted_at="2026-01-15 09:31:00", error="timed out",
           url="https://acme.example/hooks", duration_ms=15000, trigger="manual")  # fmt: skip


def run_migrate(url: str) -> str:
    environment = {**os.environ, "DATABASE_URL": url}
    finished = subprocess.run(
        [sys.executable, "-m", "scripts.migrate"],
        cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return finished.stdout.strip().splitlines()[-1]  # after the runner's log lines, what it did


def test_upgrading_a_populated_first_schema_to_the_latest_keeps_every_row(scratch_url):
    database = connect(scratch_url)  # a connection of its own: the app's stays on the test database
    with database.connection_context():
        assert Runner(database, str(MIGRATIONS)).up(FIRST) == [FIRST]
        populate_first_schema(database)

    first_run = run_migrate(scratch_url)
    second_run = run_migrate(scratch_url)

    later = [m.name for m in Runner(database, str(MIGRATIONS)).migrations() if m.name != FIRST]
    assert first_run == "applied: " + ", ".join(later)
    assert second_run == "schema is up to date"
    with database.connection_context():
        assert all(m.applied for m in Runner(database, str(MIGRATIONS)).status())

        def one(model, *where):
            return model.select().where(*where).bind(database).get()

        partner = one(partners.Partner, partners.Partner.id == "tpp_1")
        assert (partner.name, partner.consecutive_failures, partner.endpoint_enabled) == ("Acme", 2, True)
        assert one(keys.ApiKey, keys.ApiKey.digest == keys.digest(API_KEY)).partner_id == "tpp_1"
        assert one(catalogue.Product, catalogue.Product.id == "prod_1").meta == {"speed_mbps": "500"}
        assert one(catalogue.Price, catalogue.Price.id == "price_1").amount == 3999
        assert one(users.EndUser, users.EndUser.id == "tus_1").date_of_birth.isoformat() == "1990-02-03"
        order = one(orders.Order, orders.Order.id == "po_1")
        assert order.input == {"installation_date": "2026-12-01"} and order.output == {"ref": "A1"}
        assert order.created_at.isoformat() == "2026-01-15T09:30:00.123000"
        assert orders.order_document(order)["status"] == "Succesful"
        delivery = one(deliveries.Delivery, deliveries.Delivery.webhook_id == "msg_1")
        assert (delivery.order_id, delivery.state, delivery.payload_json) == (
            "po_1",
            "succeeded",
            {"id": "po_1"},
        )
        logged = deliveries.Attempt.select().where(deliveries.Attempt.delivery == delivery.id).bind(database)
        assert [(a.id, a.status_code) for a in logged.order_by(deliveries.Attempt.id)] == [
            (1, 200),
            (3, None),
        ]
    database.close()


@pytest.mark.skipif(not SERVICE_TIER, reason="autovacuum is PostgreSQL's; SQLite has none to tune")
def test_the_delivery_table_is_vacuumed_often_on_postgresql(settings):
    options = db.execute_sql("SELECT reloptions FROM pg_class WHERE relname = 'delivery'").fetchone()[0]

    assert "autovacuum_vacuum_scale_factor=0.01" in options


def test_the_latest_migrations_can_be_undone_and_done_again(scratch_url):
    database = connect(scratch_url)
    with database.connection_context():
        runner = Runner(database, str(MIGRATIONS))
        runner.up()

        undone = runner.down("0008_dashboard_sessions")
        redone = runner.up()

        assert undone == redone[::-1] == ["0009_attempt_logged_once", "0008_dashboard_sessions"]
        assert "dashboard_session" in database.get_tables()
        (logged_once,) = [
            i for i in database.get_indexes("attempt") if i.columns == ["delivery_id", "attempted_at"]
        ]
        assert logged_once.unique
    database.close()
