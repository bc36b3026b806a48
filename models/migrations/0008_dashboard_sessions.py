"""Dashboard sessions as rows, so that signing out ends a session wherever its cookie was copied.

dashboard_session  id (the SHA-256 digest of the cookie's token), api_key_id, created_at, expires_at
                   (indexed: the hourly purge deletes by it)

Column defaults live in the application, not the database.
"""
from peewee import *


def up(migrator, db):
    class ApiKey(Model):
        id = CharField(primary_key=True)
        class Meta:
            database = db
            table_name = 'api_key'

    class DashboardSession(Model):
        id = CharField(primary_key=True, max_length=64)
        api_key = ForeignKeyField(ApiKey, on_delete='CASCADE')
        created_at = DateTimeField()
        expires_at = DateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'dashboard_session'
    db.create_tables([DashboardSession])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('dashboard_session'))
