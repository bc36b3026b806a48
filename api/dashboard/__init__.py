"""The dashboard: pages where partners settle orders by hand and operators watch and re-queue deliveries
and see the reconciliation conflicts left for them.

Server-rendered HTML with plain forms and no JavaScript. Each module is one area and exposes ``bp``,
nested under this package's ``bp`` at ``/dashboard``, which signs every form (session.check_csrf),
renders errors as pages (errors.py) and sends the headers below with every page.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, redirect, url_for
from peewee import InterfaceError, OperationalError

from api import validation
from api.auth import current_principal
from api.dashboard import catalogue, conflicts, deliveries, errors, orders, partners, session
from api.dashboard.formatting import FILTERS
from models import reconciliation
from models.errors import NotFound

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

# No script runs on these pages, so none may: a last line of defence behind escaping.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
}  # and, as every answer (api/security_headers.py), nosniff and no-store


@bp.after_request
def add_security_headers(response):
    response.headers.update(SECURITY_HEADERS)
    return response


@bp.get("/")
@session.login_required(*session.DASHBOARD_ROLES)
def home():
    return redirect(url_for(session.HOME[current_principal().role]))


@bp.route("/<path:unknown>")
def unknown_page(unknown: str):
    """Unknown dashboard addresses get the dashboard's 404 page rather than the API's JSON one."""
    raise NotFound("There is no such page.")


def conflict_count() -> int | None:
    """The operators' nav badge: how many conflicts are recorded. None when the database is down, so
    that the page saying so still renders."""
    try:
        return reconciliation.conflict_count()
    except (OperationalError, InterfaceError):
        return None


bp.before_request(session.check_csrf)
bp.before_request(validation.refuse_nul_in_form)
bp.context_processor(lambda: {"csrf_token": session.csrf_token, "conflict_count": conflict_count})
errors.register(bp)
for area in (session, orders, catalogue, deliveries, partners, conflicts):
    bp.register_blueprint(area.bp)


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.environment != "development",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.dashboard_session_hours),
    )
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.register_blueprint(bp)
