"""Vacuum the delivery table often, so that the sweeper's cost does not grow with past deliveries.

Every attempt updates its delivery's ``state``, which the sweeper's partial index
(``delivery_open_next_attempt``) depends on, so each update leaves a dead entry behind in that index
until the row is vacuumed. PostgreSQL's default waits until a fifth of the table has changed: with a
million deliveries that is two hundred thousand dead entries for the sweeper to step over. Here the
table is vacuumed once about one per cent of it, or a thousand rows, has changed.
"""

from peewee import PostgresqlDatabase


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(
            'ALTER TABLE "delivery" SET (autovacuum_vacuum_scale_factor = 0.01, '
            "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.02)"
        )


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(
            'ALTER TABLE "delivery" RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, '
            "autovacuum_analyze_scale_factor)"
        )
