"""Structured logs: one JSON object per line, carrying the request id, with secrets scrubbed.

Every process (gunicorn, the dramatiq worker, the clock, the embedded runner) calls
``configure_logging``, so every line has one shape and goes through one redaction step.

The request id lives in a context variable: the API binds it for each request, the worker middleware
(``workers/tracing.py``) carries it inside the messages a request enqueues and binds it again around
each message, so an order's story, from ``POST /orders`` to the webhook attempt, shares one id.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from telemetry.log_batches import BatchedStreamHandler

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# An id a client may choose: short, and nothing that could break a log line or a header.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


def accept_request_id(candidate: str | None) -> str:
    """The client's ``X-Request-Id`` if it is a sane token, else a new id."""
    if candidate and _SANE_REQUEST_ID.match(candidate):
        return candidate
    return new_request_id()


@contextmanager
def bound_request_id(value: str | None) -> Iterator[None]:
    token = request_id.set(value)
    try:
        yield
    finally:
        request_id.reset(token)


# Redaction. Secrets have recognisable shapes (API keys ``ck_…``, webhook secrets ``whsec_…``,
# Standard Webhooks signatures ``v1,<base64>``, bearer tokens), and some fields are secret by name
# whatever they hold. Scrubbing the finished line, not each call site, means a secret that slips into
# a message, an ``extra`` or a traceback is caught all the same.
REDACTED = "[redacted]"
# Not after a letter: "%20ck_…" and "foo_ck_…" are keys too, "stuck_" is not.
_SECRET_PATTERNS = (
    (re.compile(r"(?<![A-Za-z])ck_[A-Za-z0-9_-]+"), REDACTED),
    (re.compile(r"(?<![A-Za-z])whsec_[A-Za-z0-9+/=]+"), REDACTED),
    (re.compile(r"\bv1,[A-Za-z0-9+/=]{16,}"), REDACTED),
    (re.compile(r"(?i)\b((?:bearer|basic)\s+)[^\s\"',]+"), r"\1" + REDACTED),
    # a URL's password: postgresql://user:…@host, redis://:…@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@"), r"\1" + REDACTED + "@"),
    # "pin": "1234", new_pin=1234, 'password': 'a b c', token=… in a message or a repr
    (
        re.compile(
            r"(?i)([\"']?(?<![A-Za-z])(?:new_pin|pin|password|api_key|webhook_secret|secret|token|cookie)"
            r"[\"']?\s*[:=]\s*)(?:\"[^\"]*\"|'[^']*'|[^\s\"',}]+)"
        ),
        r"\1" + REDACTED,
    ),
)
SECRET_FIELDS = frozenset(
    {
        "authorization",
        "cookie",
        "api_key",
        "webhook_secret",
        "secret",
        "secret_key",
        "token",
        "metrics_token",
        "pin",
        "new_pin",
        "password",
        "webhook-signature",
        "database_url",
        "redis_url",
    }
)


# Every pattern above needs one of these to match: text without any (most of it) is left alone after
# one search, instead of six substitutions. Logging runs on every webhook attempt.
_MIGHT_HOLD_A_SECRET = re.compile(
    r"ck_|whsec_|v1,|://[^\s/]*@|(?i:bearer|basic|pin|password|api_key|secret|token|cookie)"
)


def redact(text: str) -> str:
    if not _MIGHT_HOLD_A_SECRET.search(text):
        return text
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scrub(value: Any, name: str = "") -> Any:
    if name.lower() in SECRET_FIELDS:
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _scrub(item, str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


# The attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id", ...extra}``, secrets scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current:
            document["request_id"] = current
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                document[name] = value
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(_scrub(document), ensure_ascii=False, default=str)


# Loggers kept at a level whatever LOG_LEVEL says. Peewee logs every statement with its parameters at
# DEBUG: PIN hashes (four digits are cheap to brute-force from one), names, emails.
PINNED_LEVELS = {"peewee": "INFO"}


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` document every process uses (gunicorn's ``logconfig_dict``)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": sys.stdout}},
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            # gunicorn's own loggers keep their handlers unless told: send them through ours.
            "gunicorn.error": {"level": level, "handlers": ["stdout"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": ["stdout"], "propagate": False},
            **{name: {"level": pinned} for name, pinned in PINNED_LEVELS.items()},
        },
    }


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stdout for this process, at ``level``."""
    logging.config.dictConfig(logging_config(level))


def use_json_lines_in_batches(level: str = "INFO") -> None:
    """Inside a ``dramatiq workers`` process: keep the stream the host gave (a pipe its parent relays to
    stdout), but write JSON lines to it at ``level``, in batches (``telemetry/log_batches.py``)."""
    root = logging.getLogger()
    if not root.handlers:
        configure_logging(level)
    # Dramatiq's command line sets INFO (DEBUG with -v); LOG_LEVEL is how every other process is told.
    root.setLevel(level)
    for name, pinned in PINNED_LEVELS.items():
        logging.getLogger(name).setLevel(pinned)
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler:
            batched = BatchedStreamHandler(handler.stream)
            batched.setLevel(handler.level)
            batched.filters = list(handler.filters)
            root.removeHandler(handler)
            root.addHandler(batched)
            handler = batched
        handler.setFormatter(JsonFormatter())


def stop_batching() -> None:
    """The worker is stopping: write what is held, and every line after it at once."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, BatchedStreamHandler):
            handler.stop_batching()
        else:
            handler.flush()
