"""What every generic resource shares: URIs, Solitude's list envelope and its bodiless 202.

Resources refer to each other by URI (``"/generic/product/449/"``), as Solitude's did. Lists answer
``{"meta": {"limit", "offset", "total_count", "next", "previous"}, "objects": [...]}``: offsets, not
Courier's cursors, because that is the shape Solitude's clients page through. What a list's query
string may hold is its query model's to say (api/generic/schemas.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from flask import Response, current_app, request
from peewee import ModelSelect

from models.errors import DomainError

if TYPE_CHECKING:
    from api.generic.schemas import ListQuery

# A resource's URI, ``kind`` filled in; ids are ASCII digits, as many as an id can have.
URI_PATTERN = "/generic/{kind}/([0-9]{{1,18}})/"


def uri(kind: str, pk: int | None) -> str | None:
    """``("product", 449)`` -> ``"/generic/product/449/"``; None stays None."""
    return None if pk is None else f"/generic/{kind}/{pk}/"


def pk_from_uri(kind: str) -> Callable[[object], int]:
    """A validator turning ``"/generic/{kind}/449/"`` into ``449``, for request bodies."""
    pattern = re.compile(URI_PATTERN.format(kind=kind))

    def parse(value: object) -> int:
        match = pattern.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise ValueError(f"must be a URI such as /generic/{kind}/12/")
        return int(match.group(1))

    return parse


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition_failed"
    MESSAGE = "If-Match names no current version of this resource."


def etag_of(body: bytes) -> str:
    """A representation's strong ETag: what GET sends, and what a PATCH's If-Match is held to."""
    return hashlib.sha256(body).hexdigest()


def require_version(document: dict[str, Any]) -> None:
    """Refuse a change whose ``If-Match`` names no current version of the resource (412), as Solitude's
    tastypie did: the client read it, and someone changed it since. Call it inside the transaction
    that makes the change, with the row locked, and with the document GET would send."""
    wanted = request.if_match
    if not wanted or wanted.star_tag:  # no precondition, or "any version": the resource exists
        return
    as_sent = cast(Response, current_app.json.response(document))  # the bytes a GET would send
    if not wanted.contains(etag_of(as_sent.get_data())):
        raise PreconditionFailed(PreconditionFailed.MESSAGE)


def accepted() -> Response:
    """Solitude's answer to a PATCH that worked: 202, and nothing else."""
    response = Response(status=202)
    response.headers.remove("Content-Type")
    return response


def listing(
    query: ModelSelect[Any],
    page: ListQuery,
    render: Callable[[Sequence[Any]], list[dict[str, Any]]],
) -> dict[str, Any]:
    """One page of ``query`` (already filtered and ordered) in Solitude's envelope."""
    limit, offset = page.limit, page.offset
    total = query.count()
    rows = list(query.limit(limit).offset(offset))
    return {
        "meta": {
            "limit": limit,
            "offset": offset,
            "total_count": total,
            "next": _page_link(limit, offset + limit) if offset + limit < total else None,
            "previous": _page_link(limit, max(0, offset - limit)) if offset > 0 else None,
        },
        "objects": render(rows),
    }


def _page_link(limit: int, offset: int) -> str:
    """This list at another offset, its filters kept."""
    args = request.args.to_dict()
    args.update(limit=str(limit), offset=str(offset))
    return f"{request.path}?{urlencode(args)}"
