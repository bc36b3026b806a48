"""PIN checks: ``confirm_pin``, ``verify_pin`` and ``reset_confirm_pin``, answered as the document shows.

Their refusals keep the document's shape as well, ``{"confirmed": false, "errors": {"uuid": ["Uuid does
not exist."]}}``, rather than Courier's ``{"error": …}``: Solitude's clients read ``errors``. Statuses
are Solitude's: 201 for an answer, 400 for a malformed request, 404 for an unknown uuid; a request the
buyer's state refuses (a locked buyer resetting, say) is a 409.

They take no ``Idempotency-Key``, on purpose. A PIN check answers for the buyer as they are now, and
every try counts: a replayed ``{"valid": true}`` would vouch for a buyer locked out since, and a wrong
PIN sent again under its key would be answered from the record instead of checked and counted. A
confirmation retried after a lost answer learns what happened from the 409 that says it is done, or
from the buyer's ``pin_confirmed``, so a key would spare it nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint
from pydantic import ValidationError

from api.auth import allow
from api.errors import describe_validation_error
from api.generic.buyers import lockout_seconds
from api.generic.responses import (
    PinConfirmed,
    PinConfirmMalformed,
    PinConfirmRefused,
    PinVerified,
    PinVerifyMalformed,
    PinVerifyRefused,
)
from api.generic.schemas import PinCheck
from api.openapi import documented
from api.validation import parse_body
from models import buyers
from models.errors import DomainError
from models.keys import MARKETPLACE, OPERATOR

bp = Blueprint("pins", __name__)


def answered_as(refusal: dict[str, bool]) -> Callable:
    """Render the endpoint's refusals as ``{**refusal, "errors": {field: [message]}}``."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def answer(*args: Any, **kwargs: Any):
            try:
                return view(*args, **kwargs)
            except ValidationError as exc:
                status, errors = 400, describe_validation_error(exc)
            except DomainError as exc:
                status, errors = exc.status, exc.fields or {"__all__": exc.message}
            return {**refusal, "errors": {field: [text] for field, text in errors.items()}}, status

        return answer

    return decorate


@bp.post("/confirm_pin/")
@documented(
    "Confirm a buyer's PIN",
    body=PinCheck,
    responses={201: PinConfirmed, 400: PinConfirmMalformed, 404: PinConfirmRefused, 409: PinConfirmRefused},
)
@allow(OPERATOR, MARKETPLACE)
@answered_as({"confirmed": False})
def confirm_pin():
    body = parse_body(PinCheck)
    return {"confirmed": buyers.confirm_pin(body.uuid, body.pin)}, 201


@bp.post("/verify_pin/")
@documented(
    "Check a buyer's PIN, counting wrong ones",
    body=PinCheck,
    responses={201: PinVerified, 400: PinVerifyMalformed, 404: PinVerifyRefused},
)
@allow(OPERATOR, MARKETPLACE)
@answered_as({"valid": False, "locked": False})
def verify_pin():
    body = parse_body(PinCheck)
    check = buyers.verify_pin(body.uuid, body.pin, lockout_seconds())
    return {"valid": check.valid, "locked": check.locked}, 201


@bp.post("/reset_confirm_pin/")
@documented(
    "Confirm the new PIN of a reset",
    body=PinCheck,
    responses={201: PinConfirmed, 400: PinConfirmMalformed, 404: PinConfirmRefused, 409: PinConfirmRefused},
)
@allow(OPERATOR, MARKETPLACE)
@answered_as({"confirmed": False})
def reset_confirm_pin():
    body = parse_body(PinCheck)
    return {"confirmed": buyers.reset_confirm_pin(body.uuid, body.pin, lockout_seconds())}, 201
