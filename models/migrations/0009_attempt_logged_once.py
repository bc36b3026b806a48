"""An attempt is logged once.

attempt(delivery_id, attempted_at) UNIQUE   replaces the plain index on the same columns

A worker writes its attempts' outcomes in one statement. When the connection broke after the commit
but before its answer came back, the attempts were written again one by one, and each was logged a
second time. Each attempt now carries its own key, its delivery and the microsecond it was made at (one
delivery is attempted by one lease-holder at a time), so writing it again logs nothing new. Copies that
were already logged twice are removed first, keeping the first.

On PostgreSQL the index is built CONCURRENTLY: the attempt table only grows, and a plain build would
hold every worker's writes for as long as it scans it. That cannot run in a transaction, so neither
does this migration (``atomic``); each step can be run again, should the release be cut short.
"""

from peewee import PostgresqlDatabase

atomic = False

OLD = "attempt_delivery_id_attempted_at"  # the name the model gives the index, old and new
BUILDING = "attempt_logged_once"

DEDUPLICATE = """
DELETE FROM attempt WHERE id IN (
    SELECT later.id FROM attempt AS later JOIN attempt AS first
        ON first.delivery_id = later.delivery_id AND first.attempted_at = later.attempted_at
        AND first.id < later.id
)
"""


def _swap_index(migrator, db, unique: bool) -> None:
    if isinstance(db, PostgresqlDatabase):
        kind = "UNIQUE INDEX" if unique else "INDEX"
        db.execute_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {BUILDING}")  # left invalid by a cut-short run
        db.execute_sql(f"CREATE {kind} CONCURRENTLY {BUILDING} ON attempt (delivery_id, attempted_at)")
        db.execute_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {OLD}")
        db.execute_sql(f"ALTER INDEX {BUILDING} RENAME TO {OLD}")
        return
    with db.atomic():
        migrator.migrate(
            migrator.drop_index('attempt', OLD),
            migrator.add_index('attempt', ('delivery_id', 'attempted_at'), unique),
        )


def up(migrator, db):
    db.execute_sql(DEDUPLICATE)
    _swap_index(migrator, db, unique=True)


def down(migrator, db):
    _swap_index(migrator, db, unique=False)
