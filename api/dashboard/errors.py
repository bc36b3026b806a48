"""Errors on dashboard pages are pages: a 404 looks like the dashboard, not like the JSON API.

Registered on the dashboard's blueprint only, so the API's JSON error handling (api/errors.py) is
unchanged. Bad form input is not handled here: the page with the form shows it beside each field.
"""

from __future__ import annotations

import logging

from flask import Blueprint, render_template
from peewee import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from models.errors import DomainError

logger = logging.getLogger(__name__)

TITLES = {
    400: "That request could not be used",
    403: "Not for this account",
    404: "Not found",
    405: "Not allowed",
    409: "That change is not possible",
    413: "Too large",
}


def error_page(status: int, message: str):
    title = TITLES.get(status, "Something went wrong")
    return render_template("dashboard/error.html", status=status, title=title, message=message), status


def register(bp: Blueprint) -> None:
    @bp.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return error_page(exc.status, exc.message)

    @bp.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return error_page(exc.code or 500, exc.description or exc.name)

    @bp.errorhandler(OperationalError)
    @bp.errorhandler(InterfaceError)
    def database_unavailable(exc: Exception):
        logger.warning("database unavailable: %s", exc)
        response = error_page(503, "The database is unavailable. Reload the page in a moment.")
        return response[0], 503, {"Retry-After": "1"}

    @bp.errorhandler(Exception)
    def unexpected(exc: Exception):
        logger.exception("unhandled error on a dashboard page")
        return error_page(500, "Something went wrong on our side. It has been logged.")
