"""What every model shares: the database binding, UTC time, prefixed random ids, a JSON column,
unique-index violations turned into errors a client can act on, and rows inserted together."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from peewee import AutoField, IntegrityError, Model, TextField

from models.db import db, execute_prepared, is_postgres
from models.errors import Conflict

_ID_ALPHABET = string.ascii_letters + string.digits
_ID_LENGTH = 21  # ~125 bits, the length of the seed's example "prod_EfeUDJnTVdDigaqQ9rMaC"
_ID_CHOICES = len(_ID_ALPHABET) ** _ID_LENGTH


def new_id(prefix: str) -> str:
    """A random, URL-safe id in the seed's style: ``prod_…``, ``price_…``, ``po_…``, ``tus_…``.

    One uniform draw below 62**21 written in base 62: the same ids as 21 draws of a character, for one
    call to the system's random source instead of 21 (placing an order makes four ids)."""
    number = secrets.randbelow(_ID_CHOICES)
    characters = []
    for _ in range(_ID_LENGTH):
        number, digit = divmod(number, len(_ID_ALPHABET))
        characters.append(_ID_ALPHABET[digit])
    return prefix + "_" + "".join(characters)


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


def delete_in_batches(model: type[Model], condition: Any, batch: int = 10_000) -> int:
    """Delete every row of ``model`` matching ``condition``, ``batch`` rows a statement (short
    transactions, short locks, however many have piled up); return how many."""
    key: Any = model._meta.primary_key
    deleted = 0
    while True:
        matching = model.select(key).where(condition).limit(batch)
        count = model.delete().where(key.in_(matching)).execute()
        deleted += count
        if count < batch:
            return deleted


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


def insert_together(*rows: Model) -> None:
    """Insert the unsaved ``rows``, in order, all or none; each auto-numbered id is set on its row.

    On PostgreSQL in one statement, a WITH clause of INSERTs planned once per connection: one round trip
    where inserting them one by one in a transaction takes five (BEGIN, three INSERTs, COMMIT), each
    built anew by the query builder. A later row may refer to an earlier one: foreign keys are checked
    when the whole statement ends. Elsewhere, one INSERT each in a transaction.
    """
    if not is_postgres():
        with db.atomic():
            for row in rows:
                row.save(force_insert=True)
        return
    columns = [[name for name in row.__data__ if not _numbered(row, name)] for row in rows]
    name, statement = _insert_statement(
        tuple((type(row), tuple(names)) for row, names in zip(rows, columns, strict=True))
    )
    params = tuple(
        row._meta.fields[field].db_value(row.__data__[field])
        for row, names in zip(rows, columns, strict=True)
        for field in names
    )
    ids = iter(execute_prepared(name, statement, (), params).fetchone())
    for row in rows:
        key = _auto_key(type(row))
        if key is not None and _numbered(row, key.name):
            row.__data__[key.name] = next(ids)


@functools.cache
def _insert_statement(shape: tuple[tuple[type[Model], tuple[str, ...]], ...]) -> tuple[str, str]:
    """The name and text of the statement inserting rows of ``shape``: each row's model and the fields
    it sets. Built once per shape."""
    inserts, numbered = [], []
    for n, (model, names) in enumerate(shape):
        quoted = ", ".join(f'"{model._meta.fields[name].column_name}"' for name in names)
        placeholders = ", ".join("?" for _ in names)
        insert = f'INSERT INTO "{model._meta.table_name}" ({quoted}) VALUES ({placeholders})'
        key = _auto_key(model)
        if key is not None and key.name not in names:
            insert += f' RETURNING "{key.column_name}"'
            numbered.append(f'(SELECT "{key.column_name}" FROM "row{n}")')
        inserts.append(f'"row{n}" AS ({insert})')
    statement = f"WITH {', '.join(inserts)} SELECT {', '.join(numbered) or 'NULL'}"
    return "courier_insert_" + hashlib.sha1(statement.encode()).hexdigest()[:12], statement


def _auto_key(model: type[Model]) -> AutoField | None:
    key = model._meta.primary_key
    return key if isinstance(key, AutoField) else None


def _numbered(row: Model, name: str) -> bool:
    """Whether ``name`` is ``row``'s auto-incremented key, left for the database to number."""
    key = _auto_key(type(row))
    return key is not None and name == key.name and row.__data__.get(name) is None


def locked(query: Any) -> Any:
    """``query`` holding the rows it reads until the transaction ends: ``FOR UPDATE`` on PostgreSQL;
    SQLite's writers take turns already."""
    return query.for_update() if is_postgres() else query
