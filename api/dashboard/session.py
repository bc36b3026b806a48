"""Signing in to the dashboard with an API key, signing out, CSRF tokens, and the ``login_required`` guard.

A session is a row in the database (models/dashboard_sessions.py) and a random token in Flask's signed
cookie, beside the key's role and never the key; the row holds only the token's digest. Every request
looks the row up with its key in one query: signing out deletes the row, so a copy of the cookie taken
before stops working, and revoking the key ends its sessions at once. A session also ends
``dashboard_session_hours`` after sign-in however busy it is (the row's ``expires_at``), as the cookie's
own expiry would slide forward with every request.

Every POST carries the session's CSRF token in a hidden field (the sign-in form too, so that another
site cannot sign a browser in to an account of its choosing).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from urllib.parse import urlparse

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for

from api.auth import Forbidden, Principal
from models import dashboard_sessions, keys, partners

bp = Blueprint("session", __name__)

DASHBOARD_ROLES = (keys.PARTNER, keys.OPERATOR)
HOME = {keys.PARTNER: "dashboard.orders.list_orders", keys.OPERATOR: "dashboard.deliveries.list_deliveries"}


def csrf_token() -> str:
    """This session's token, made on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Before every dashboard request: a POST without this session's token is refused with a 400."""
    if request.method != "POST":
        return
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, "This form has expired or did not come from the dashboard. Reload the page and try again.")


def _session_lifetime() -> timedelta:
    return timedelta(hours=current_app.config["SETTINGS"].dashboard_session_hours)


def signed_in() -> Principal | None:
    """Who this session belongs to, if its row is still there and unexpired and its key still live."""
    token, role = session.get("token"), session.get("role")
    if not isinstance(token, str) or not isinstance(role, str):
        return None
    key = dashboard_sessions.key_of(token, role)
    if key is None:
        session.clear()
        return None
    return Principal(role=key.role, key_id=key.id, partner_id=key.partner_id)


def _end_session() -> None:
    """Delete this browser's session row, if it has one, and empty the cookie."""
    token = session.get("token")
    if isinstance(token, str):
        dashboard_sessions.end(token)
    session.clear()


def login_required(*roles: str) -> Callable:
    """Admit a signed-in session of one of ``roles``; send anyone else to the sign-in page."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            principal = signed_in()
            if principal is None:
                return redirect(url_for("dashboard.session.sign_in", next=request.full_path.rstrip("?")))
            if principal.role not in roles:
                raise Forbidden(f"This page is for {' and '.join(r + 's' for r in roles)}.")
            g.principal = principal  # what api.auth.current_principal() answers from here on
            return view(*args, **kwargs)

        return guarded

    return decorate


def _safe_next(target: str | None) -> str | None:
    """Only a dashboard path: the sign-in page must not send anyone to another site."""
    if not target:
        return None
    try:
        parsed = urlparse(target)
    except ValueError:  # "http://[::1": not a URL at all
        return None
    if parsed.scheme or parsed.netloc or not parsed.path.startswith(url_for("dashboard.home")):
        return None
    return target


def _account_name(key: keys.LiveKey) -> str:
    """What the header calls the account: the partner's name, or "Operator"."""
    return partners.get_partner(key.partner_id).name if key.partner_id else key.role.capitalize()


@bp.get("/sign-in")
def sign_in():
    return render_template("dashboard/sign_in.html", next=_safe_next(request.args.get("next")))


@bp.post("/sign-in")
def sign_in_with_key():
    key = keys.authenticate(request.form.get("api_key", "").strip())
    if key is None or key.role not in DASHBOARD_ROLES:
        error = (
            "That key is not valid: check it was copied whole, and that it has not been revoked."
            if key is None
            else f"A {key.role} key cannot sign in to the dashboard; use a partner or operator key."
        )
        return render_template("dashboard/sign_in.html", error=error, next=request.form.get("next")), 400
    target = _safe_next(request.form.get("next")) or url_for(HOME[key.role])
    _end_session()  # one this browser had: a new sign-in gets a new token
    session.permanent = True
    token = dashboard_sessions.start(key.id, _session_lifetime())
    session.update(token=token, role=key.role, name=_account_name(key))
    csrf_token()
    return redirect(target)


@bp.post("/sign-out")
def sign_out():
    _end_session()
    return redirect(url_for("dashboard.session.sign_in"))
