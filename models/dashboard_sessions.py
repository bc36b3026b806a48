"""Dashboard sessions, kept in the database so that signing out ends them.

The browser's cookie carries a random token; a row here holds only the token's SHA-256 digest, so a
copy of this table hands out no live session (Warehouse and Django keep theirs the same way). A
session belongs to an API key and ends at a fixed time however busy it is; deleting its row (signing
out) or revoking its key ends it at once.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from peewee import CharField, DateTimeField, ForeignKeyField

from models.base import BaseModel, delete_in_batches, utcnow
from models.keys import ApiKey, LiveKey, digest


class DashboardSession(BaseModel):
    id = CharField(primary_key=True, max_length=64)  # the digest of the cookie's token, never the token
    api_key = ForeignKeyField(ApiKey, backref="dashboard_sessions", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)


def start(key_id: str, lifetime: timedelta, now: datetime | None = None) -> str:
    """A new session for the key, ending ``lifetime`` from now; returns the token for the cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    DashboardSession.create(id=digest(token), api_key=key_id, created_at=now, expires_at=now + lifetime)
    return token


def key_of(token: str, role: str, now: datetime | None = None) -> LiveKey | None:
    """The key a live session speaks for: the session exists and has not run out, and its key is not
    revoked and still has ``role``. One query, as the key alone took before sessions were rows."""
    found = (
        ApiKey.select(ApiKey.id, ApiKey.role, ApiKey.partner)
        .join(DashboardSession, on=DashboardSession.api_key == ApiKey.id)
        .where(
            (DashboardSession.id == digest(token))
            & (DashboardSession.expires_at > (now or utcnow()))
            & ApiKey.revoked_at.is_null()
            & (ApiKey.role == role)
        )
        .tuples()
        .first()
    )
    return None if found is None else LiveKey(*found)


def end(token: str) -> None:
    """The session stops working at once, wherever its cookie has been copied to."""
    DashboardSession.delete().where(DashboardSession.id == digest(token)).execute()


def purge_expired(now: datetime | None = None, batch: int = 10_000) -> int:
    """Delete every session past its expiry, ``batch`` rows a statement; return how many."""
    return delete_in_batches(DashboardSession, DashboardSession.expires_at <= (now or utcnow()), batch)
