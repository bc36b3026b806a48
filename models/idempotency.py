"""Idempotency keys (Stripe's semantics): the first response to a key is kept and replayed.

A row is written in the same transaction as the request's own writes, so an order and the record of
its response commit together or not at all: a crash in between leaves neither, and the retry runs
afresh. Two requests with one key take turns: on PostgreSQL the second finds the key's advisory lock
held and is told the first is still in progress; SQLite serialises writing transactions anyway.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from peewee import BigAutoField, CharField, DateTimeField, IntegerField, TextField

from models.base import BaseModel, delete_in_batches, utcnow
from models.db import db, is_postgres


class IdempotencyKey(BaseModel):
    id = BigAutoField()
    key_id = CharField(max_length=64)  # the API key that sent it: keys are scoped to their sender
    key = CharField(max_length=255)
    fingerprint = CharField(max_length=64)  # keyed digest of the method, path and body (api/idempotency.py)
    status_code = IntegerField()
    response_body = TextField()
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("key_id", "key"), True),)


def _lock_id(key_id: str, key: str) -> int:
    digest = hashlib.sha256(f"{key_id}\n{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock(key_id: str, key: str) -> bool:
    """Take the key for this transaction; False if another transaction holds it right now."""
    if not is_postgres():
        return True  # SQLite: BEGIN IMMEDIATE already made this the only writing transaction
    cursor = db.execute_sql("SELECT pg_try_advisory_xact_lock(%s)", (_lock_id(key_id, key),))
    return bool(cursor.fetchone()[0])


def find(key_id: str, key: str, ttl: timedelta, now: datetime | None = None) -> IdempotencyKey | None:
    """The live record of this key, if any; an expired one is deleted so the key can be used again."""
    now = now or utcnow()
    row = IdempotencyKey.get_or_none((IdempotencyKey.key_id == key_id) & (IdempotencyKey.key == key))
    if row is not None and row.created_at <= now - ttl:
        row.delete_instance()
        return None
    return row


def record(key_id: str, key: str, fingerprint: str, status_code: int, response_body: str) -> IdempotencyKey:
    return IdempotencyKey.create(
        key_id=key_id, key=key, fingerprint=fingerprint, status_code=status_code, response_body=response_body
    )


def purge_expired(ttl: timedelta, now: datetime | None = None, batch: int = 10_000) -> int:
    """Delete every record older than ``ttl``, ``batch`` rows a statement (short transactions, short
    locks), however many an hour of keyed requests left."""
    cutoff = (now or utcnow()) - ttl
    return delete_in_batches(IdempotencyKey, IdempotencyKey.created_at <= cutoff, batch)
