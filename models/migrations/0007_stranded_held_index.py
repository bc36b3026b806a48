"""The sweeper's third question: held deliveries whose endpoint is enabled again.

delivery_held  (partner_id)  WHERE state = 'held'

A delivery held by a worker that judged the endpoint disabled just as an operator enabled it is missed
by the release that came with the enabling; the sweeper finds it. Held rows are few, so the index is
small, and the sweep does not scan the table every 30 seconds.
"""

CREATE = "CREATE INDEX IF NOT EXISTS delivery_held ON delivery (partner_id) WHERE state = 'held'"


def up(migrator, db):
    db.execute_sql(CREATE)


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS delivery_held")
