"""A delivery's payload in a table of its own, written once (``models.deliveries.DeliveryPayload``).

Every attempt rewrites its delivery row, and with the payload inside, every rewrite copied it: a
100,000-delivery backlog's table outgrew the cache and the drain slowed by a fifth. The payloads move
across as they are; the delivery table keeps only the delivery's state.
"""

CREATE = (
    'CREATE TABLE IF NOT EXISTS "delivery_payload" ('
    '"delivery_id" BIGINT NOT NULL PRIMARY KEY REFERENCES "delivery" ("id") ON DELETE CASCADE, '
    '"body" TEXT NOT NULL)'
)


def up(migrator, db):
    db.execute_sql(CREATE)
    db.execute_sql(
        'INSERT INTO "delivery_payload" ("delivery_id", "body") SELECT "id", "payload" FROM "delivery"'
    )
    migrator.migrate(migrator.drop_column("delivery", "payload"))


def down(migrator, db):
    from peewee import TextField

    migrator.migrate(migrator.add_column("delivery", "payload", TextField(default="")))
    db.execute_sql(
        'UPDATE "delivery" SET "payload" = (SELECT "body" FROM "delivery_payload" '
        'WHERE "delivery_payload"."delivery_id" = "delivery"."id")'
    )
    db.execute_sql('DROP TABLE "delivery_payload"')
