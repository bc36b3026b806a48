"""Idempotency keys: the first response to each (API key, Idempotency-Key), kept for replaying."""
from peewee import *


def up(migrator, db):
    class IdempotencyKey(Model):
        id = BigAutoField()
        key_id = CharField(max_length=64)
        key = CharField(max_length=255)
        fingerprint = CharField(max_length=64)
        status_code = IntegerField()
        response_body = TextField()
        created_at = DateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'idempotency_key'
            indexes = ((('key_id', 'key'), True),)
    db.create_tables([IdempotencyKey])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('idempotency_key'))
