"""The sweeper's two questions, each with an index of its own.

delivery_due      (next_attempt_at)  WHERE state IN ('pending', 'retrying')   what is overdue
delivery_lapsing  (lease_expires_at) WHERE state = 'delivering'               whose worker died

They replace ``delivery_open_next_attempt``, which covered both states' rows but only one of their
columns. With an index whose predicate is exactly the query's and whose order is the query's ORDER BY,
the planner takes a plain index scan even when its statistics are stale (a backlog just drained and not
yet analysed); a plain scan marks the dead entries a drain leaves behind as it passes them, so only the
first sweep after a drain pays for them.
"""

CREATE = (
    "CREATE INDEX IF NOT EXISTS delivery_due ON delivery (next_attempt_at) "
    "WHERE state IN ('pending', 'retrying')",
    "CREATE INDEX IF NOT EXISTS delivery_lapsing ON delivery (lease_expires_at) "
    "WHERE state = 'delivering'",
)


def up(migrator, db):
    for statement in CREATE:
        db.execute_sql(statement)
    db.execute_sql("DROP INDEX IF EXISTS delivery_open_next_attempt")


def down(migrator, db):
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS delivery_open_next_attempt ON delivery (next_attempt_at) "
        "WHERE state IN ('pending', 'delivering', 'retrying')"
    )
    db.execute_sql("DROP INDEX IF EXISTS delivery_lapsing")
    db.execute_sql("DROP INDEX IF EXISTS delivery_due")
