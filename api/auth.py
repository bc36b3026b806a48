"""Bearer-key authentication and the three roles.

operator     everything, including managing partners
marketplace  end users, and orders on their behalf; the payments API; reads the catalogue
partner      its own products, prices and orders, and the users of its own orders

A partner asking for another partner's resource gets a 404, never a 403: it learns nothing about
what it may not see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import g, request

from models import keys
from models.errors import DomainError


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


@dataclass(frozen=True)
class Principal:
    role: str
    key_id: str
    partner_id: str | None = None

    @property
    def partner_scope(self) -> str | None:
        """The partner this caller is confined to, or None for operators and the marketplace."""
        return self.partner_id if self.role == keys.PARTNER else None


def authenticate_request() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing API key: send the header 'Authorization: Bearer <api key>'.")
    key = keys.authenticate(token.strip())
    if key is None:
        raise Unauthorized("The API key is not valid.")
    return Principal(role=key.role, key_id=key.id, partner_id=key.partner_id)


def current_principal() -> Principal:
    principal = g.get("principal")
    if principal is None:
        principal = g.principal = authenticate_request()
    return principal


def allow(*roles: str) -> Callable:
    """Authenticate the request and admit only ``roles``."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            principal = current_principal()
            if principal.role not in roles:
                raise Forbidden(f"A {principal.role} key may not do this.")
            return view(*args, **kwargs)

        guarded.allowed_roles = roles  # type: ignore[attr-defined]
        return guarded

    return decorate
