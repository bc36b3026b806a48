from models import MODELS
from models.db import db
from scripts.migrate import migrate


def test_migrating_an_up_to_date_database_changes_nothing(settings):
    assert migrate(settings.database_url, settings.database_pool_size) == []
    tables = set(db.get_tables())
    assert {model._meta.table_name for model in MODELS} <= tables
