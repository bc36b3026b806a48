"""What every generic resource shares: URIs, Solitude's list envelope and query-string filters.

Resources refer to each other by URI (``"/generic/product/449/"``), as Solitude's did. Lists answer
``{"meta": {"limit", "offset", "total_count", "next", "previous"}, "objects": [...]}``: offsets, not
Courier's cursors, because that is the shape Solitude's clients page through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from flask import Response, request
from peewee import ModelSelect

from api.pagination import parse_limit
from models.errors import InvalidInput

_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits: str.isdigit() also accepts "²"


def uri(kind: str, pk: int | None) -> str | None:
    """``("product", 449)`` -> ``"/generic/product/449/"``; None stays None."""
    return None if pk is None else f"/generic/{kind}/{pk}/"


def pk_from_uri(kind: str) -> Callable[[object], int]:
    """A validator turning ``"/generic/{kind}/449/"`` into ``449``, for request bodies."""
    pattern = re.compile(rf"/generic/{kind}/([0-9]{{1,18}})/")

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
    params: dict[str, str],
    render: Callable[[Sequence[Any]], list[dict[str, Any]]],
) -> dict[str, Any]:
    """One page of ``query`` (already filtered and ordered) in Solitude's envelope."""
    limit = parse_limit(params.get("limit"))
    offset = integer_param(params, "offset") or 0
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


def integer_param(params: dict[str, str], name: str, choices: dict[int, str] | None = None) -> int | None:
    """The query parameter ``name`` as a non-negative integer (one of ``choices``, if given), or None."""
    raw = params.get(name)
    if raw is None:
        return None
    value = int(raw) if _NUMBER.fullmatch(raw) else None
    if value is None or (choices is not None and value not in choices):
        allowed = (
            "one of " + ", ".join(f"{number} ({label})" for number, label in choices.items())
            if choices
            else "a non-negative integer"
        )
        raise InvalidInput(f"{name} must be {allowed}.", fields={name: f"must be {allowed}"})
    return value


def boolean_param(params: dict[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise InvalidInput(f"{name} must be true or false.", fields={name: "must be true or false"})
    return raw == "true"
