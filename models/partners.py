"""Partners (the TPPs) and the secrets their webhooks are signed with."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from urllib.parse import urlparse

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.base import BaseModel, new_id, utcnow
from models.errors import InvalidInput, NotFound

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


class Partner(BaseModel):
    id = CharField(primary_key=True, default=lambda: new_id("tpp"))
    name = CharField(max_length=200)
    webhook_url = TextField()
    created_at = DateTimeField(default=utcnow)
    # Endpoint health, kept up to date by every delivery attempt.
    last_success_at = DateTimeField(null=True)
    failing_since = DateTimeField(null=True)
    consecutive_failures = IntegerField(default=0)
    disabled_at = DateTimeField(null=True)
    disabled_reason = TextField(null=True)

    @property
    def endpoint_enabled(self) -> bool:
        return self.disabled_at is None


class WebhookSecret(BaseModel):
    """A signing key. The newest unexpired one is current; an older one signs too until it expires."""

    partner = ForeignKeyField(Partner, backref="secrets", on_delete="CASCADE")
    secret = CharField(max_length=120)  # "whsec_" + base64(key), the form partners are shown
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(null=True)


def new_signing_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def validate_webhook_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise InvalidInput(
            "The webhook URL must be an absolute http(s) URL.",
            fields={"webhook_url": "must be an absolute http(s) URL"},
        )
    return url


def create_partner(name: str, webhook_url: str) -> tuple[Partner, str]:
    """A partner and its first signing secret; returns both (the secret in its ``whsec_`` form)."""
    if not name.strip():
        raise InvalidInput("The partner needs a name.", fields={"name": "may not be blank"})
    partner = Partner.create(name=name.strip(), webhook_url=validate_webhook_url(webhook_url))
    secret = WebhookSecret.create(partner=partner, secret=new_signing_secret())
    return partner, secret.secret


def get_partner(partner_id: str) -> Partner:
    partner = Partner.get_or_none(Partner.id == partner_id)
    if partner is None:
        raise NotFound(f"No partner {partner_id}.", fields={"partner_id": "does not exist"})
    return partner


def signing_secrets(partner_id: str, now: datetime | None = None) -> list[str]:
    """The secrets that sign a request sent now, newest first."""
    now = now or utcnow()
    query = (
        WebhookSecret.select(WebhookSecret.secret)
        .where(
            (WebhookSecret.partner == partner_id)
            & (WebhookSecret.expires_at.is_null() | (WebhookSecret.expires_at > now))
        )
        .order_by(WebhookSecret.created_at.desc())
    )
    return [row.secret for row in query]
