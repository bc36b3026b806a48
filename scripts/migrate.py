"""Create or upgrade the schema: ``python -m scripts.migrate`` (the release phase runs it).

Migrations are the numbered files in ``models/migrations``, applied in order by Peewee's own runner and
recorded in the ``schema_migration`` table, so running this twice applies nothing the second time. On
PostgreSQL an advisory lock makes two release phases started together take turns.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

from playhouse.migrations import Runner

import settings as settings_module
from models.db import db, init_db, is_postgres
from telemetry.logs import configure_logging

MIGRATIONS = Path(__file__).resolve().parent.parent / "models" / "migrations"
LOCK_ID = 0x636F7572  # "cour": any constant shared by every process that migrates


@contextmanager
def exclusive():
    if not is_postgres():
        yield  # SQLite serialises writers on its own
        return
    db.execute_sql("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
    try:
        yield
    finally:
        db.execute_sql("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))


def migrate(database_url: str, pool_size: int = 8) -> list[str]:
    """Apply pending migrations; return their names."""
    database = init_db(database_url, pool_size=pool_size)
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with db.connection_context(), exclusive():
        return Runner(database, str(MIGRATIONS)).up()


def main() -> int:
    settings = settings_module.load()
    configure_logging(settings.log_level)
    applied = migrate(settings.database_url, settings.database_pool_size)
    print("applied: " + ", ".join(applied) if applied else "schema is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
