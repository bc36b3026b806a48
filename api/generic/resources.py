"""What every generic resource shares: URIs, Solitude's list envelope and its bodiless 202.

Resources refer to each other by URI (``"/generic/product/449/"``), as Solitude's did. Lists answer
``{"meta": {"limit", "offset", "total_count", "next", "previous"}, "objects": [...]}``: offsets, not
Courier's cursors, because that is the shape Solitude's clients page through. What a list's query
string may hold is its query model's to say (api/generic/schemas.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Response, request
from peewee import ModelSelect

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
