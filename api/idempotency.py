"""``Idempotency-Key``, with Stripe's semantics, so that a client retrying after a network error never
places an order twice.

    same key, same request    the first response again, with ``Idempotent-Replayed: true``
    same key, other request   422 idempotency_key_reused
    same key, still running   409 idempotency_key_in_use (PostgreSQL; SQLite makes the retry wait)
    after 24 hours            the key is forgotten, and may be used again

Keys belong to the API key that sent them. The view, its writes and the record of its response run in
one transaction (``models/idempotency.py``), and the messages the view sends wait for that commit.
Responses worth replaying are kept: successes and refusals that the same request would meet again.
A 400 (an invalid request, which the client corrects and sends again under the same key, as Stripe
allows), a 409 (the state it met may change) and any 5xx (the next try may succeed) are not kept:
their transaction is rolled back and a retry runs afresh.

Stored bodies are sealed with ``SECRET_KEY`` (Fernet): ``POST /partners`` answers with a new API key and
webhook secret, which must not lie in the database in clear. For the same reason requests are
recognised by a keyed digest, not a plain one (``fingerprints``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Response, current_app, request

from api.auth import current_principal
from models import idempotency
from models.db import db
from models.errors import Conflict, DomainError, InvalidInput
from workers.dispatch import after_commit

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Printable ASCII without spaces, as UUIDs and most generated keys are.
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"


class _NotKept(Exception):
    """Leaves the transaction, rolling it back, with the response to give the client."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _key() -> str | None:
    key = request.headers.get(HEADER)
    if key is not None and not _VALID_KEY.match(key):
        raise InvalidInput(
            f"{HEADER} must be 1 to 255 printable ASCII characters without spaces, such as a UUID.",
            fields={HEADER: "must be 1 to 255 printable ASCII characters without spaces"},
        )
    return key


def fingerprints() -> list[str]:
    """What makes two requests "the same": method, path and body (JSON compared as data, not bytes).

    An HMAC under SECRET_KEY, then under each of SECRET_KEY_FALLBACKS: the first is recorded, any of them
    matches. Keyed, because a body may hold a secret as small as a buyer's four-digit PIN, which trying
    all 10,000 would read back from a plain digest.
    """
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON, or nested past the decoder's depth: the view says so
        body = raw
    message = f"{request.method}\n{request.path}\n".encode() + body
    return [hmac.new(key, message, hashlib.sha256).hexdigest() for key in _keys(b"fingerprints")]


def _keys(purpose: bytes) -> list[bytes]:
    """A key for ``purpose`` from SECRET_KEY, then from each of SECRET_KEY_FALLBACKS."""
    settings = current_app.config["SETTINGS"]
    secrets = (settings.secret_key, *settings.secret_key_fallbacks)
    return [
        hashlib.sha256(b"courier idempotency " + purpose + b"\n" + secret.encode()).digest()
        for secret in secrets
    ]


def _fernet() -> MultiFernet:
    """Seals with SECRET_KEY; opens what it or one of SECRET_KEY_FALLBACKS sealed."""
    return MultiFernet([Fernet(base64.urlsafe_b64encode(key)) for key in _keys(b"responses")])


def kept(status: int) -> bool:
    return status < 500 and status not in (400, 409)


def _run(view: Callable, args: tuple, kwargs: dict) -> Response:
    """The view's response, errors rendered as the API renders them, so that they can be kept too."""
    try:
        result = view(*args, **kwargs)
    except Exception as exc:
        result = current_app.handle_user_exception(exc)
    return current_app.make_response(result)


def _replay(record: idempotency.IdempotencyKey, request_fingerprints: list[str]) -> Response:
    try:
        body = _fernet().decrypt(record.response_body.encode())
    except InvalidToken:  # SECRET_KEY changed, and the old one is not among SECRET_KEY_FALLBACKS
        # The key that made the record's fingerprint is gone too: whether this is the same request
        # cannot be told either.
        raise Conflict(
            f"The first request with this {HEADER} was answered, but its response can no longer be "
            "replayed: it may have taken effect. Look for what it made before sending it again under "
            "a new key.",
            fields={HEADER: "cannot be replayed"},
            code="idempotency_key_unreadable",
        ) from None
    if not any(hmac.compare_digest(record.fingerprint, each) for each in request_fingerprints):
        raise IdempotencyKeyReused(
            f"This {HEADER} was used for a different request; use a new key for a new request.",
            fields={HEADER: "was used with a different method, path or body"},
        )
    response = Response(body, status=record.status_code, mimetype="application/json")
    response.headers[REPLAYED_HEADER] = "true"
    return response


def idempotent(view: Callable) -> Callable:
    """Honour ``Idempotency-Key`` on a view that writes. Place it under ``@allow``: keys are per API key."""

    @wraps(view)
    def honouring_key(*args, **kwargs):
        key = _key()
        if key is None:
            return view(*args, **kwargs)
        key_id = current_principal().key_id
        ttl = timedelta(seconds=current_app.config["SETTINGS"].idempotency_key_ttl_seconds)
        this_request = fingerprints()
        try:
            with after_commit(), db.atomic():
                if not idempotency.lock(key_id, key):
                    raise IdempotencyKeyInUse(
                        f"A request with this {HEADER} is still in progress; retry in a moment.",
                        fields={HEADER: "is in use by a request in progress"},
                    )
                record = idempotency.find(key_id, key, ttl)
                if record is not None:
                    return _replay(record, this_request)
                response = _run(view, args, kwargs)
                if not kept(response.status_code):
                    raise _NotKept(response)
                sealed = _fernet().encrypt(response.get_data()).decode()
                idempotency.record(key_id, key, this_request[0], response.status_code, sealed)
                return response
        except _NotKept as not_kept:
            return not_kept.response

    honouring_key.idempotent = True  # type: ignore[attr-defined]
    return honouring_key
