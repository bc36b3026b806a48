"""An attempt is logged once.

attempt(delivery_id, attempted_at) UNIQUE   replaces the plain index on the same columns

A worker writes its attempts' outcomes in one statement. When the connection broke after the commit
but before its answer came back, the attempts were written again one by one, and each was logged a
second time. Each attempt now carries its own key, its delivery and the microsecond it was made at (one
delivery is attempted by one lease-holder at a time), so writing it again logs nothing new. Copies that
were already logged twice are removed first, keeping the first.
"""

DEDUPLICATE = """
DELETE FROM attempt WHERE id IN (
    SELECT later.id FROM attempt AS later JOIN attempt AS first
        ON first.delivery_id = later.delivery_id AND first.attempted_at = later.attempted_at
        AND first.id < later.id
)
"""


def up(migrator, db):
    db.execute_sql(DEDUPLICATE)
    migrator.migrate(
        migrator.drop_index('attempt', 'attempt_delivery_id_attempted_at'),
        migrator.add_index('attempt', ('delivery_id', 'attempted_at'), True),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index('attempt', 'attempt_delivery_id_attempted_at'),
        migrator.add_index('attempt', ('delivery_id', 'attempted_at'), False),
    )
