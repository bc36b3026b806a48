"""One HTTP attempt at a partner's endpoint, reduced to an ``AttemptResult``.

Redirects are not followed (a 3xx is a failure, as the best senders treat it), the body read back is
bounded, and every failure, from a refused connection to a timeout, becomes a value rather than an
exception, so the caller's schedule decides what happens next.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

from models.attempts import AttemptResult
from models.deliveries import EXCERPT_CHARS
from workers.egress import PublicOnlyAdapter

USER_AGENT = "Courier-Webhooks/1.0"
_local = threading.local()


def _session(allow_private: bool) -> requests.Session:
    # One keep-alive session per thread (requests' sessions are not thread-safe) and per egress policy.
    name = "open_session" if allow_private else "public_session"
    session = getattr(_local, name, None)
    if session is None:
        session = requests.Session()
        # Straight to the partner: a proxy from the environment would hide the address the egress
        # guard checks (and looking it up costs more CPU than the rest of the request).
        session.trust_env = False
        session.headers.update({"User-Agent": USER_AGENT, "Content-Type": "application/json"})
        if not allow_private:
            session.mount("http://", PublicOnlyAdapter())
            session.mount("https://", PublicOnlyAdapter())
        setattr(_local, name, session)
    return session


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds, whether given as seconds or as an HTTP date; None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def _read_excerpt(response: requests.Response) -> str:
    raw = response.raw.read(EXCERPT_CHARS, decode_content=True) or b""
    return raw.decode("utf-8", errors="replace")


def post(
    url: str, body: bytes, headers: dict[str, str], timeout: float, *, allow_private: bool = False
) -> AttemptResult:
    started = time.perf_counter()

    def elapsed_ms() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        response = _session(allow_private).post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
        )
    except requests.Timeout:
        return AttemptResult(url=url, duration_ms=elapsed_ms(), error=f"timed out after {timeout:g}s")
    except requests.RequestException as exc:
        return AttemptResult(url=url, duration_ms=elapsed_ms(), error=_describe(exc))
    try:
        excerpt = _read_excerpt(response)
    except (requests.RequestException, OSError) as exc:
        excerpt = f"[response body unreadable: {_describe(exc)}]"
    finally:
        response.close()
    retry_after = None
    if response.status_code in (429, 503):
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
    return AttemptResult(
        url=url,
        duration_ms=elapsed_ms(),
        status_code=response.status_code,
        response_excerpt=excerpt or None,
        retry_after_seconds=retry_after,
    )


def _describe(exc: BaseException) -> str:
    """A short, stable description: the exception type and its innermost reason."""
    reason = exc
    while reason.__context__ is not None and reason.__context__ is not reason:
        reason = reason.__context__
    text = str(reason) or type(reason).__name__
    return f"{type(exc).__name__}: {text}"[:300]
