"""Cursor pagination, newest first: ``?limit=20&starting_after=<id>`` -> ``{"data", "has_more"}``.

A cursor is the last id of the previous page. Unlike an offset it does not skip or repeat rows while
new ones are written, and it costs one index seek however deep the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from peewee import AutoField, ModelSelect

from api.validation import parse_integer
from models.base import older_than
from models.errors import InvalidInput

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    limit = parse_integer(raw)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be an integer from 1 to {MAX_LIMIT}.",
            fields={"limit": f"must be an integer from 1 to {MAX_LIMIT}"},
        )
    return limit


def page_rows(
    query: ModelSelect[Any], model: Any, params: Mapping[str, str], *, created: Any = None
) -> tuple[list[Any], bool]:
    """One page of ``query`` (rows of ``model``, ordered by creation, newest first), and whether more
    rows follow it. ``created`` is the column that says when a row was made, if not ``created_at``."""
    created = model.created_at if created is None else created
    limit = parse_limit(params.get("limit"))
    cursor_id: str | int | None = params.get("starting_after")
    if cursor_id and isinstance(model.id, AutoField):
        cursor_id = parse_integer(str(cursor_id))
        if cursor_id is None:
            raise InvalidInput(
                "starting_after must be an id from the previous page.",
                fields={"starting_after": "must be an integer id"},
            )
    if cursor_id:
        cursor = query.clone().where(model.id == cursor_id).first()
        if cursor is None:
            raise InvalidInput(
                f"starting_after: no {model.__name__.lower()} {cursor_id}.",
                fields={"starting_after": "does not exist"},
            )
        query = query.where(older_than(model, cursor, created))
    rows = list(query.order_by(created.desc(), model.id.desc()).limit(limit + 1))
    return rows[:limit], len(rows) > limit


def page(
    query: ModelSelect[Any],
    model: Any,
    params: dict[str, str],
    render: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """One page of ``query`` as the API answers it: ``{"data": [...], "has_more": ...}``."""
    rows, has_more = page_rows(query, model, params)
    return {"data": [render(row) for row in rows], "has_more": has_more}
