"""API keys. A key is random, shown once, and stored only as its SHA-256 digest.

A slow hash would buy nothing here: a key carries 240 bits of randomness, so its digest cannot be
reversed by guessing, and a fast digest keeps authentication to one indexed lookup per request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from peewee import CharField, DateTimeField, ForeignKeyField

from models.base import BaseModel, new_id, utcnow
from models.db import execute_prepared
from models.errors import InvalidInput, NotFound
from models.partners import Partner

OPERATOR = "operator"
MARKETPLACE = "marketplace"
PARTNER = "partner"
ROLES = (OPERATOR, MARKETPLACE, PARTNER)

KEY_PREFIX = "ck_"


class ApiKey(BaseModel):
    id = CharField(primary_key=True, default=lambda: new_id("key"))
    role = CharField(max_length=20)
    partner = ForeignKeyField(Partner, null=True, backref="api_keys", on_delete="CASCADE")
    partner_id: str | None
    digest = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)


def digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def issue_key(role: str, partner: Partner | None = None) -> tuple[ApiKey, str]:
    """A new key for ``role``; returns the row and the plaintext, which is never stored."""
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}.", fields={"role": f"must be one of {ROLES}"})
    if (role == PARTNER) != (partner is not None):
        raise InvalidInput("A partner key belongs to exactly one partner; other keys to none.")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(30)
    key = ApiKey.create(role=role, partner=partner, digest=digest(plaintext))
    return key, plaintext


# Every API request asks it: written once and planned once per connection, not built for each request.
def revoke(key_id: str, now: datetime | None = None) -> ApiKey:
    """The key stops working at once: its next request is a 401, its dashboard sessions end. Revoking
    a revoked key changes nothing (its first revocation time stands)."""
    key = ApiKey.get_or_none(ApiKey.id == key_id)
    if key is None:
        raise NotFound(f"No API key {key_id}.", fields={"key_id": "does not exist"})
    ApiKey.update(revoked_at=now or utcnow()).where(
        (ApiKey.id == key_id) & ApiKey.revoked_at.is_null()
    ).execute()
    return ApiKey.get_by_id(key_id)


AUTHENTICATE = 'SELECT "id", "role", "partner_id" FROM "api_key" WHERE "digest" = ? AND "revoked_at" IS NULL'


@dataclass(frozen=True)
class LiveKey:
    """Who a request's key speaks for: what authentication reads of the key, and all it needs."""

    id: str
    role: str
    partner_id: str | None


def authenticate(plaintext: str) -> LiveKey | None:
    """The live key with this plaintext, or None."""
    found = execute_prepared("courier_authenticate", AUTHENTICATE, ("text",), (digest(plaintext),)).fetchone()
    return None if found is None else LiveKey(*found)
