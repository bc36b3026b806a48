"""One HTTP attempt at a partner's endpoint, reduced to an ``AttemptResult``.

Redirects are not followed (a 3xx is a failure, as the best senders treat it), the body read back is
bounded, and every failure, from a refused connection to a timeout, becomes a value rather than an
exception, so the caller's schedule decides what happens next.

The timeout bounds the whole attempt, not each wait for the network: a partner that answers a byte
every few seconds would otherwise hold the request past its lease, and the delivery would be claimed
and sent again while the first request is still open. Under gevent, which the worker dyno runs on, a
``gevent.Timeout`` cuts the attempt off; in threads (``make run``, the tests), a watchdog shuts down its
socket (``workers/attempt_deadline.py``).

The request goes through urllib3 directly, the engine under requests: a webhook needs none of what
requests adds on top (cookies, hooks, proxies from the environment, redirect handling), and that layer
cost more CPU per delivery than the rest of the request (measured with py-spy while benchmarking).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import urllib3
from dramatiq.threading import is_gevent_active
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError, NewConnectionError
from urllib3.exceptions import TimeoutError as RequestTimeout

from models.attempts import AttemptResult
from models.deliveries import EXCERPT_CHARS
from workers import attempt_deadline
from workers.attempt_deadline import ShutAtDeadline
from workers.egress import RefusesPrivateAddresses

logger = logging.getLogger(__name__)

HEADERS = {"User-Agent": "Courier-Webhooks/1.0", "Content-Type": "application/json"}
# Keep-alive connections kept per partner host: as many as a worker process may have in flight to one
# partner (half of its 256 greenlets by default, all of them with WEBHOOK_PARTNER_SHARE=1). A request
# beyond the pool's size opens a connection of its own (DNS through gevent's thread pool, TCP, TLS) and
# throws it away after one use, with a warning in the log: against 300 ms endpoints, with 32 kept, that
# was one of the two costs that grew with the endpoint's latency (py-spy; the other is in
# workers/redis_wakeup.py). Only connections once in use are kept,
# so a partner that never has more than a few requests in flight keeps a few.
CONNECTIONS_KEPT_PER_HOST = 256


def _pool_classes(*mixins: type) -> dict[str, type[HTTPConnectionPool]]:
    """urllib3's pool classes, with ``mixins`` put before urllib3's own in their connections."""
    classes: dict[str, type[HTTPConnectionPool]] = {}
    for scheme, pool_class in (("http", HTTPConnectionPool), ("https", HTTPSConnectionPool)):
        connection = type(f"Webhook{scheme.upper()}Connection", (*mixins, pool_class.ConnectionCls), {})
        classes[scheme] = type(f"Webhook{scheme.upper()}Pool", (pool_class,), {"ConnectionCls": connection})
    return classes


# By egress policy: whether private addresses may be reached (only ever in development and tests).
_POOL_CLASSES = {
    True: _pool_classes(ShutAtDeadline),
    False: _pool_classes(ShutAtDeadline, RefusesPrivateAddresses),
}

# One pool manager per egress policy, shared by every thread (urllib3's pools are thread-safe).
# No proxies from the environment: a proxy would hide the address the egress guard checks.
_pools: dict[bool, urllib3.PoolManager] = {}


def _pool(allow_private: bool) -> urllib3.PoolManager:
    pool = _pools.get(allow_private)
    if pool is None:
        pool = urllib3.PoolManager(
            num_pools=200, maxsize=CONNECTIONS_KEPT_PER_HOST, block=False, headers=HEADERS
        )
        pool.pool_classes_by_scheme = _POOL_CLASSES[allow_private]
        pool = _pools.setdefault(allow_private, pool)
    return pool


_SECONDS = re.compile(r"[0-9]{1,12}")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds, whether given as seconds or as an HTTP date; None if unusable."""
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):  # not str.isdigit: headers arrive as Latin-1, and "²" is a digit to it
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


class _DeadlinePassed(BaseException):
    """Raised into an attempt that ran out of time. A BaseException, so that no library's ``except
    Exception`` on the way takes it for an error of its own."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """End the block with ``_DeadlinePassed`` once ``seconds`` have passed: raised into it under gevent;
    in threads, by the waits that fail once the watchdog shuts the socket down (``_cut_off``)."""
    if not is_gevent_active():
        with attempt_deadline.watching(seconds):
            yield
        return
    import gevent

    with gevent.Timeout(seconds, _DeadlinePassed):
        yield


def _cut_off(closing: urllib3.BaseHTTPResponse | None = None) -> None:
    """In threads, a network wait that failed because the attempt ran out of time ends it as under
    gevent, and not as an error of the partner's; ``closing``, a response, is closed first, so that
    its connection does not go back to the pool."""
    if attempt_deadline.passed():
        if closing is not None:
            closing.close()
        raise _DeadlinePassed


def _read_excerpt(response: urllib3.BaseHTTPResponse) -> str:
    """The start of the body. The connection is kept for the next request only if the body was read
    to its end: the rest of a long one is not read (a partner may answer with anything)."""
    excerpt = response.read(EXCERPT_CHARS, decode_content=True) or b""
    if len(excerpt) < EXCERPT_CHARS:
        response.release_conn()
    else:
        response.close()
    return excerpt.decode("utf-8", errors="replace")


def post(
    url: str, body: bytes, headers: dict[str, str], timeout: float, *, allow_private: bool = False
) -> AttemptResult:
    started = time.perf_counter()
    try:
        with _deadline(timeout):
            return _attempt(url, body, headers, timeout, allow_private, started)
    except _DeadlinePassed:  # urllib3 closes a connection it was using; _attempt closes the response's
        return _timed_out(url, started, timeout)


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _timed_out(url: str, started: float, timeout: float) -> AttemptResult:
    return AttemptResult(url=url, duration_ms=_ms_since(started), error=f"timed out after {timeout:g}s")


def _attempt(
    url: str, body: bytes, headers: dict[str, str], timeout: float, allow_private: bool, started: float
) -> AttemptResult:
    try:
        response = _pool(allow_private).request(
            "POST",
            url,
            body=body,
            headers={**HEADERS, **headers},
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            retries=False,
            redirect=False,
            preload_content=False,
        )
    except NewConnectionError as exc:  # urllib3 files it under timeouts; it is a refusal
        return AttemptResult(url=url, duration_ms=_ms_since(started), error=_describe(exc))
    except RequestTimeout:
        return _timed_out(url, started, timeout)
    except (HTTPError, OSError) as exc:
        _cut_off()
        return AttemptResult(url=url, duration_ms=_ms_since(started), error=_describe(exc))
    except Exception as exc:  # unforeseen, but still an attempt that failed: logged, and on the schedule
        logger.exception("webhook attempt to %s failed unexpectedly", url)
        return AttemptResult(url=url, duration_ms=_ms_since(started), error=_describe(exc))
    _cut_off(closing=response)  # in threads, headers may end where the watchdog shut the socket down
    excerpt = _body_excerpt(response)
    retry_after = None
    if response.status in (429, 503):
        try:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        except Exception:  # a partner's header must not turn an attempt into an error Dramatiq retries
            logger.exception("unreadable Retry-After %r from %s", response.headers.get("Retry-After"), url)
    return AttemptResult(
        url=url,
        duration_ms=_ms_since(started),
        status_code=response.status,
        response_excerpt=excerpt or None,
        retry_after_seconds=retry_after,
    )


BODY_CUT_OFF = "[response body cut off at the timeout]"


def _body_excerpt(response: urllib3.BaseHTTPResponse) -> str:
    """The start of the body, or what stopped it. The status line decides the attempt, as Svix and
    Stripe decide it: a 2xx whose body is still arriving at the deadline was received, and sending it
    again would give the partner a message it has already acknowledged."""
    try:
        try:
            excerpt = _read_excerpt(response)
        except (HTTPError, OSError) as exc:
            response.close()
            _cut_off()
            return f"[response body unreadable: {_describe(exc)}]"
        _cut_off()  # in threads, a body without a length ends where the watchdog shut the socket down
        return excerpt
    except _DeadlinePassed:  # the connection, cut off mid-answer, must not go back to the pool
        response.close()
        return BODY_CUT_OFF


def _describe(exc: BaseException) -> str:
    """A short, stable description: the exception type and its innermost reason."""
    reason = exc
    while reason.__context__ is not None and reason.__context__ is not reason:
        reason = reason.__context__
    text = str(reason) or type(reason).__name__
    return f"{type(exc).__name__}: {text}"[:300]
