"""Reading requests: JSON bodies through pydantic schemas, query strings against what a route knows."""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel
from werkzeug.exceptions import RequestEntityTooLarge

from models.errors import InvalidInput, NotFound

Schema = TypeVar("Schema", bound=BaseModel)


# Ids are 64-bit integers or short strings; the databases refuse to even compare with other values.
MAX_INTEGER_ID = 2**63 - 1
# ASCII digits that fit 64 bits: str.isdigit admits "²", which int() refuses; pydantic "+5" and "5_0".
ASCII_INTEGER = re.compile(r"[0-9]{1,19}")


def parse_integer(raw: str) -> int | None:
    """``raw`` as a 64-bit integer of ASCII digits, or None. (``str.isdigit`` admits "²", which ``int``
    refuses, and ``int`` reads a number too long for either database.)"""
    if not ASCII_INTEGER.fullmatch(raw):
        return None
    value = int(raw)
    return value if value <= MAX_INTEGER_ID else None


def _impossible_id(value: object) -> bool:
    if isinstance(value, int):
        return value > MAX_INTEGER_ID
    return "\x00" in str(value)


def refuse_impossible_input() -> None:
    """An id no row can have (a NUL character, a number past 64 bits) finds nothing, without asking the
    database, which would fail on it; a NUL character in the query string is refused."""
    if any(_impossible_id(value) for value in (request.view_args or {}).values()):
        raise NotFound("No such resource.")
    if any("\x00" in name + value for name, value in request.args.items(multi=True)):
        raise InvalidInput(
            "The query string holds a NUL character.", fields={"query": "holds a NUL character"}
        )


def refuse_an_oversized_stream() -> None:
    """A body sent without a length (chunked) that fills MAX_REQUEST_BYTES is refused with a 413, as one
    declaring a larger length is: Werkzeug reads such a body up to the limit and silently drops the rest."""
    if request.content_length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        limit = request.max_content_length
        if limit is not None and len(request.get_data(cache=True)) >= limit:
            raise RequestEntityTooLarge()


def refuse_nul_in_form() -> None:
    """A form field holding a NUL character is refused: PostgreSQL cannot even compare with one."""
    if any("\x00" in name + value for name, value in request.form.items(multi=True)):
        raise InvalidInput("The form holds a NUL character.", fields={"form": "holds a NUL character"})


def parse_body(schema: type[Schema]) -> Schema:
    """The request body validated by ``schema``; malformed JSON and invalid fields raise 400s.

    The body is read whatever its Content-Type: partners written from the guide alone may not send one.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise InvalidInput("The request needs a JSON body.", fields={"body": "is required"})
    _refuse_repeated_keys(raw)
    return schema.model_validate_json(raw)


def _refuse_repeated_keys(raw: bytes) -> None:
    """A key given twice in one object is refused: parsers keep the last, so ``{"status": "Succesful",
    "status": "Failed"}`` would settle an order for good on a word its sender may not have meant."""
    with contextlib.suppress(ValueError, RecursionError):  # not JSON: the schema's parser says where
        json.loads(raw, object_pairs_hook=_unique_keys)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise InvalidInput(
                f"The body gives the key {key!r} more than once in one object.",
                fields={key: "is given more than once"},
            )
        seen.add(key)
    return dict(pairs)


def query_params(*allowed: str) -> dict[str, str]:
    """The query string, refusing parameters the route does not know (a typo should not be ignored), and
    parameters given twice (which of the two was meant?)."""
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"Unknown query parameter(s): {', '.join(unknown)}.",
            fields={name: "is not a known parameter" for name in unknown},
        )
    repeated = sorted(name for name in request.args if len(request.args.getlist(name)) > 1)
    if repeated:
        raise InvalidInput(
            f"Query parameter(s) given more than once: {', '.join(repeated)}.",
            fields={name: "is given more than once" for name in repeated},
        )
    return {name: request.args[name] for name in allowed if name in request.args}


def parse_query(schema: type[BaseModel]) -> dict[str, str]:
    """The query string checked by ``schema`` (unknown parameters and bad values are 400s), as given."""
    params = query_params(*schema.model_fields)
    schema.model_validate(params)
    return params


def read_query(schema: type[Schema]) -> Schema:
    """The query string read into ``schema`` (unknown parameters and bad values are 400s)."""
    return schema.model_validate(query_params(*schema.model_fields))


def parse_timestamp(name: str, raw: str) -> datetime:
    """An ISO 8601 query parameter as naive UTC, the form timestamps are stored in."""
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            # Year 1 ahead of UTC, or year 9999 behind it, has no UTC form: OverflowError.
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"{name} must be an ISO 8601 timestamp, such as 2026-11-22T09:30:00Z.",
            fields={name: "must be an ISO 8601 timestamp"},
        ) from None
    return moment


def parse_flag(name: str, raw: str) -> bool:
    if raw not in ("true", "false"):
        raise InvalidInput(f"{name} must be true or false.", fields={name: "must be true or false"})
    return raw == "true"
