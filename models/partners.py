"""Partners (the TPPs) and the secrets their webhooks are signed with."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from peewee import (
    AutoField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    ModelSelect,
    TextField,
    fn,
)
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from models.base import BaseModel, locked, new_id, tuples, utcnow
from models.errors import InvalidInput, NotFound

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


class Partner(BaseModel):
    id = CharField(primary_key=True, default=lambda: new_id("tpp"))
    name = CharField(max_length=200)
    webhook_url = TextField()
    created_at = DateTimeField(default=utcnow)
    # Endpoint health, kept up to date by the delivery attempts (see record_success/record_failure).
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

    id = AutoField()  # the secret's version, which a rotate form names (see rotate_secret_once)
    partner = ForeignKeyField(Partner, backref="secrets", on_delete="CASCADE")
    secret = CharField(max_length=120)  # "whsec_" + base64(key), the form partners are shown
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(null=True)


def new_signing_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def validate_webhook_url(url: str) -> str:
    """An absolute http(s) URL, read by the parser the sender will use (urllib3's): one it cannot read
    is refused now, rather than failing every delivery until the endpoint is disabled."""
    try:
        parsed = parse_url(url)
    except LocationParseError:  # "http://[::1", "http://host:abc/", "http://exa mple.com/"
        parsed = None
    if parsed is None or parsed.scheme not in {"http", "https"} or not parsed.host or parsed.port == 0:
        raise InvalidInput(
            "The webhook URL must be an absolute http(s) URL.",
            fields={"webhook_url": "must be an absolute http(s) URL"},
        )
    if not _is_a_dns_name(parsed.host):
        raise InvalidInput(
            f"The webhook URL's host {parsed.host!r} is not a name DNS can look up.",
            fields={"webhook_url": "has a host name DNS cannot look up"},
        )
    return url


def _is_a_dns_name(host: str) -> bool:
    """An address, or a name whose labels are 1 to 63 characters once encoded, as the resolver needs
    ("a..example.com" has an empty one): what it refuses would fail every delivery."""
    if host.startswith("["):  # an IPv6 address, which urllib3 has already read
        return True
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True


def create_partner(name: str, webhook_url: str) -> tuple[Partner, str]:
    """A partner and its first signing secret; returns both (the secret in its ``whsec_`` form)."""
    if not name.strip():
        raise InvalidInput("The partner needs a name.", fields={"name": "may not be blank"})
    partner = Partner.create(name=name.strip(), webhook_url=validate_webhook_url(webhook_url))
    secret = WebhookSecret.create(partner=partner, secret=new_signing_secret())
    return partner, secret.secret


def get_partner(partner_id: str, *, lock: bool = False) -> Partner:
    """The partner; with ``lock``, its row is held until the transaction ends (PostgreSQL; SQLite's
    writers take turns already)."""
    query = Partner.select().where(Partner.id == partner_id)
    partner = (locked(query) if lock else query).first()
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


ROTATION_OVERLAP = timedelta(hours=24)


def rotate_secret(partner_id: str, now: datetime | None = None) -> tuple[str, datetime]:
    """A new signing secret; the ones in use keep signing for 24 hours beside it.

    Returns the new secret and when the previous one stops signing. While both are valid every request
    carries two signatures, so a partner can switch its verifier at any moment of the overlap.
    """
    now = now or utcnow()
    # Rotations of one partner take turns (in the caller's transaction), from before either reads a
    # secret: two at once would each retire only the secrets it could see, and leave two current ones.
    get_partner(partner_id, lock=True)
    made, retiring_at = _rotate(partner_id, now)
    return made.secret, retiring_at


def _rotate(partner_id: str, now: datetime) -> tuple[WebhookSecret, datetime]:
    retiring_at = now + ROTATION_OVERLAP
    WebhookSecret.update(expires_at=retiring_at).where(
        (WebhookSecret.partner == partner_id)
        & (WebhookSecret.expires_at.is_null() | (WebhookSecret.expires_at > retiring_at))
    ).execute()
    made = WebhookSecret.create(partner=partner_id, secret=new_signing_secret(), created_at=now)
    return made, retiring_at


# A secret's version is its row's id: not secret, and it changes with every rotation. The current secret
# is the one without an expiry (a rotation gives the others one, in the transaction that makes it).


def with_secret_version(query: ModelSelect[Any]) -> ModelSelect[Any]:
    """``query`` of partners, each with ``secret_version``, the version of its current secret: a form
    that rotates it sends this back, so that sending the form twice rotates once."""
    current = WebhookSecret.alias()
    version = current.select(fn.MAX(current.id)).where(
        (current.partner == Partner.id) & current.expires_at.is_null()
    )
    return query.select_extend(version.alias("secret_version"))


@dataclass(frozen=True)
class Rotation:
    """The secret current after a request to rotate, made when, and when the ones before it stop signing
    (None: they have stopped). ``rotated`` says whether this request made it."""

    secret: str
    secret_id: int
    made_at: datetime
    previous_expires_at: datetime | None
    rotated: bool


def rotate_secret_once(partner_id: str, version: int, now: datetime | None = None) -> Rotation:
    """Rotate the secret if ``version`` is still current; otherwise leave it, and answer what is current.

    Call it in a transaction. The check and the rotation are one conditional UPDATE of the current secret,
    so of two requests with one version (a page reloaded, two operators at once) only the first rotates,
    and the second, waiting on the row's lock, finds it retired and is shown the secret the first made.
    """
    now = now or utcnow()
    get_partner(partner_id, lock=True)  # rotations take turns, as in rotate_secret
    claimed = (
        WebhookSecret.update(expires_at=now + ROTATION_OVERLAP)
        .where(
            (WebhookSecret.id == version)
            & (WebhookSecret.partner == partner_id)
            & WebhookSecret.expires_at.is_null()
        )
        .execute()
    )
    if claimed:
        made, retiring_at = _rotate(partner_id, now)
        return Rotation(made.secret, made.id, now, retiring_at, rotated=True)
    if not _is_secret_of(partner_id, version):
        raise InvalidInput(
            "That form does not name one of this partner's secrets. Open the partners page again.",
            fields={"secret_version": "is not one of this partner's secrets"},
        )
    return _current_rotation(partner_id, now)


def _is_secret_of(partner_id: str, version: int) -> bool:
    return (
        WebhookSecret.select()
        .where((WebhookSecret.id == version) & (WebhookSecret.partner == partner_id))
        .exists()
    )


def _current_rotation(partner_id: str, now: datetime) -> Rotation:
    mine = WebhookSecret.partner == partner_id
    current = (
        WebhookSecret.select()
        .where(mine & WebhookSecret.expires_at.is_null())
        .order_by(WebhookSecret.id.desc())
        .get()
    )
    previous = (
        WebhookSecret.select(WebhookSecret.expires_at)
        .where(mine & (WebhookSecret.expires_at > now))
        .order_by(WebhookSecret.expires_at.desc())
        .first()
    )
    return Rotation(
        current.secret, current.id, current.created_at, previous and previous.expires_at, rotated=False
    )


# Endpoint health. A success writes to the partner row only when it changes something (the partner was
# failing, or its last success is stale), so a busy, healthy partner does not serialise every delivery
# on one row.
LAST_SUCCESS_RESOLUTION = timedelta(seconds=60)


def record_success(partner_id: str, now: datetime) -> None:
    Partner.update(last_success_at=now, consecutive_failures=0, failing_since=None).where(
        (Partner.id == partner_id)
        & (
            (Partner.consecutive_failures > 0)
            | Partner.last_success_at.is_null()
            | (Partner.last_success_at < now - LAST_SUCCESS_RESOLUTION)
        )
    ).execute()


def record_failure(partner_id: str, now: datetime, disable_after: timedelta) -> bool:
    """Count a failed attempt; disable the endpoint once every attempt has failed for ``disable_after``.

    Returns True when this failure disabled the endpoint.
    """
    Partner.update(
        consecutive_failures=Partner.consecutive_failures + 1,
        failing_since=fn.COALESCE(Partner.failing_since, now),
    ).where(Partner.id == partner_id).execute()
    return disable_endpoint(
        partner_id,
        f"every attempt failed for {_describe_span(disable_after)}",
        now,
        only_failing_since=now - disable_after,
    )


def disable_endpoint(
    partner_id: str, reason: str, now: datetime | None = None, *, only_failing_since: datetime | None = None
) -> bool:
    """Stop delivering to the partner; its deliveries are held until an operator enables it again."""
    now = now or utcnow()
    condition = (Partner.id == partner_id) & Partner.disabled_at.is_null()
    if only_failing_since is not None:
        condition &= Partner.failing_since <= only_failing_since
    return bool(Partner.update(disabled_at=now, disabled_reason=reason).where(condition).execute())


def disable_long_failing(disable_after: timedelta, now: datetime | None = None) -> list[str]:
    """Disable every endpoint that has failed every attempt for ``disable_after``; return their ids.

    A failed attempt checks this itself, but an endpoint whose deliveries have all gone dead gets no
    more attempts: this catches it on the clock instead.
    """
    now = now or utcnow()
    cutoff = now - disable_after
    failing = Partner.select(Partner.id).where(
        Partner.disabled_at.is_null() & (Partner.failing_since <= cutoff)
    )
    reason = f"every attempt failed for {_describe_span(disable_after)}"
    return [
        partner.id
        for partner in failing
        if disable_endpoint(partner.id, reason, now, only_failing_since=cutoff)
    ]


def enable_endpoint(partner_id: str) -> bool:
    """Deliver to the partner again, with a clean slate. False when it was not disabled."""
    get_partner(partner_id)
    return bool(
        Partner.update(disabled_at=None, disabled_reason=None, consecutive_failures=0, failing_since=None)
        .where((Partner.id == partner_id) & Partner.disabled_at.is_null(False))
        .execute()
    )


def _describe_span(span: timedelta) -> str:
    seconds = span.total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:g} seconds"


def names() -> dict[str, str]:
    """Every partner's name by id, alphabetically: for filters and tables that name partners."""
    return dict(tuples(Partner.select(Partner.id, Partner.name).order_by(Partner.name, Partner.id)))
