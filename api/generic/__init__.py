"""The generic payments API under ``/generic/``, as Mozilla's Solitude served it.

Server to server: marketplace and operator keys only (conflicts: operators only). Each resource is a
blueprint nested in this one, which tags every successful GET with a strong ETag.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, request

from api.errors import error_response
from api.generic import buyers, conflicts, pins, sellers, transactions

bp = Blueprint("generic", __name__, url_prefix="/generic")
for module in (buyers, pins, sellers, transactions, conflicts):
    bp.register_blueprint(module.bp)


@bp.after_request
def tag(response: Response) -> Response:
    """A strong ETag over the body; a request whose ``If-None-Match`` holds it gets a bodiless 304, one
    whose ``If-Match`` does not a 412 error."""
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        response.set_etag(hashlib.sha256(response.get_data()).hexdigest())
        response.headers["Cache-Control"] = "private, no-cache"  # kept only to revalidate by its ETag
        response.make_conditional(request)
        if response.status_code == 412:  # werkzeug keeps the resource as the body; errors carry no ETag
            return error_response(
                412, "precondition_failed", "If-Match names no current version of this resource."
            )
    return response
