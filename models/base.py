"""What every model shares: the database binding, UTC time, prefixed random ids, a JSON column, and
unique-index violations turned into errors a client can act on."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from peewee import IntegrityError, Model, TextField

from models.db import db
from models.errors import Conflict

_ID_ALPHABET = string.ascii_letters + string.digits
_ID_LENGTH = 21  # ~125 bits, the length of the seed's example "prod_EfeUDJnTVdDigaqQ9rMaC"


def new_id(prefix: str) -> str:
    """A random, URL-safe id in the seed's style: ``prod_…``, ``price_…``, ``po_…``, ``tus_…``."""
    return prefix + "_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def utcnow() -> datetime:
    """Naive UTC: every timestamp column holds UTC, whatever the server's time zone."""
    return datetime.now(UTC).replace(tzinfo=None)


def isoformat(moment: datetime | None) -> str | None:
    """ISO 8601 with an explicit UTC designator, as clients parse it."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds") + "Z"


def older_than(model: Any, row: Any, created: Any = None) -> Any:
    """The rows of ``model`` after ``row`` in newest-first order: created earlier, or at the same moment
    with a smaller id. Keyset pagination's condition, which an index on ``created_at`` answers.

    ``created`` is the column that says when a row was made, if not ``created_at``."""
    created = model.created_at if created is None else created
    moment = getattr(row, created.name)
    return (created < moment) | ((created == moment) & (model.id < row.id))


def tuples(query: Any) -> list[tuple[Any, ...]]:
    """An aggregate query's rows as plain tuples. (Peewee's type stubs read every row of a model's
    select as a model instance, which an aggregate's rows are not.)"""
    return list(query.tuples())


class JSONField(TextField):
    """A JSON document stored as text, so that SQLite and PostgreSQL hold it the same way."""

    def db_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def python_value(self, value: Any) -> Any:
        if value is None or not isinstance(value, str):
            return value
        return json.loads(value)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


@contextmanager
def unique(field: str, message: str) -> Iterator[None]:
    """Turn a unique-index violation inside the block into a 409 that names ``field``.

    Checking first and inserting second would leave a race between two requests; the index decides.
    The savepoint keeps the caller's transaction usable: PostgreSQL aborts a transaction on any error.
    """
    try:
        with db.atomic():
            yield
    except IntegrityError:
        raise Conflict(message, fields={field: "is already taken"}, code="already_exists") from None
