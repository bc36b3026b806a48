"""The one place where errors become JSON: ``{"error": {"code", "message", "fields"}}``.

Domain errors carry their own status; malformed input, unknown routes and oversized bodies get theirs
from Werkzeug; a database that cannot be reached is a 503 the client may retry; anything else is a
logged 500 that shows no traceback.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from peewee import InterfaceError, OperationalError
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from models.errors import DomainError

logger = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None):
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    return response


def _starts_with_acronym(text: str) -> bool:
    first_word = text.split(" ", 1)[0]
    return len(first_word) > 1 and first_word.isupper()


def describe_validation_error(exc: ValidationError) -> dict[str, str]:
    """Pydantic's errors as ``{"field.path": "what is wrong"}``, in words a client can act on."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or "body"
        if error["type"] == "missing":
            text = "is required"
        elif error["type"] == "extra_forbidden":
            text = "is not a known field"
        else:
            text = error["msg"]
            text = text.removeprefix("Value error, ")
            if text and not _starts_with_acronym(text):  # "PIN must be…" keeps its capitals
                text = text[0].lower() + text[1:]
        fields.setdefault(path, text)
    return fields


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return error_response(exc.status, exc.code, exc.message, exc.fields)

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        fields = describe_validation_error(exc)
        malformed = next((e for e in exc.errors() if e["type"] == "json_invalid"), None)
        if malformed is not None:  # where the parser stopped, as "expected `,` or `}` at line 7 column 2"
            where = malformed.get("ctx", {}).get("error")
            message = (
                f"The request body is not valid JSON: {where}."
                if where
                else "The request body is not valid JSON."
            )
            return error_response(400, "malformed_json", message)
        summary = "; ".join(f"{name}: {text}" for name, text in fields.items())
        return error_response(400, "invalid_request", f"Invalid request: {summary}", fields)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        response = error_response(status, HTTP_CODES.get(status, "http_error"), exc.description or exc.name)
        for name, value in exc.get_headers():
            if name.lower() != "content-type":  # e.g. Allow on a 405
                response.headers[name] = value
        return response

    @app.after_request
    def redirect_in_json(response: Response) -> Response:
        """The redirect to an address's form with its trailing slash (a 308, which keeps the method
        and the body) comes from Werkzeug's routing with an HTML page; the API says it in JSON."""
        if response.status_code == 308 and response.mimetype == "text/html":
            location = response.headers["Location"]
            body = error_response(308, "permanent_redirect", f"This resource's address is {location}.")
            response.set_data(body.get_data())
            response.mimetype = body.mimetype
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(exc: Exception):
        logger.warning("database unavailable: %s", exc)
        response = error_response(503, "service_unavailable", "The database is unavailable; retry shortly.")
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")
