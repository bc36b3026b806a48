"""The generic payments API under ``/generic/``, as Mozilla's Solitude served it.

Server to server: marketplace and operator keys only (conflicts: operators only). Each resource is a
blueprint nested in this one, which tags every successful GET with a strong ETag; a PATCH that names
one in ``If-Match`` changes the resource only while it is current (``resources.require_version``).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from api.errors import error_response
from api.generic import buyers, conflicts, pins, sellers, transactions
from api.generic.resources import PreconditionFailed, etag_of

bp = Blueprint("generic", __name__, url_prefix="/generic")
for module in (buyers, pins, sellers, transactions, conflicts):
    bp.register_blueprint(module.bp)


@bp.after_request
def tag(response: Response) -> Response:
    """A strong ETag over the body; a request whose ``If-None-Match`` holds it gets a bodiless 304, one
    whose ``If-Match`` does not a 412 error."""
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        response.set_etag(etag_of(response.get_data()))
        response.headers["Cache-Control"] = "private, no-cache"  # kept only to revalidate by its ETag
        response.make_conditional(request)
        del response.headers["Date"]  # werkzeug adds one; so does the server, and one is allowed
        if response.status_code == 412:  # werkzeug keeps the resource as the body; errors carry no ETag
            return error_response(
                PreconditionFailed.status, PreconditionFailed.code, PreconditionFailed.MESSAGE
            )
    return response
