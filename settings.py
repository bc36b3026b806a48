"""Configuration, read from the environment in this one place (12-factor).

Every value has a default that suits a first run on a laptop: with nothing set, Courier uses SQLite in
``var/`` and Dramatiq's in-memory broker. Production sets ``DATABASE_URL`` and ``REDIS_URL``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'courier.db'}"
DEV_SECRET_KEY = "dev-only-secret-key"

# Svix's schedule: after the first attempt, retry after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h.
DEFAULT_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


class ConfigurationError(ValueError):
    """An environment variable holds a value Courier cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # Connections each process may hold open at once (PostgreSQL only; SQLite opens one per thread).
    database_pool_size: int = 8
    redis_url: str | None = None
    # Dramatiq keys live under this prefix; tests give each run its own.
    redis_namespace: str = "courier"
    # How long any call to Redis may wait for an answer or a connection: a server that stops answering
    # (a partition drops no connection) must fail the call, not hold an API request or a consumer forever.
    redis_timeout_seconds: float = 5.0
    processing_window_seconds: float = 60.0
    webhook_timeout_seconds: float = 15.0
    webhook_retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    # Each retry delay is spread by +/- this fraction so that a partner coming back is not stampeded.
    webhook_retry_jitter: float = 0.2
    # A partner's Retry-After (on 429 and 503) is honoured up to this many seconds.
    webhook_retry_after_max_seconds: float = 3600.0
    webhook_allow_private_networks: bool = False
    # An endpoint that has failed every attempt for this long is disabled (default five days).
    endpoint_disable_after_seconds: float = 5 * 86400.0
    # Isolation: the share of a worker process's threads one partner may hold, and the slots left to a
    # partner whose last attempt failed.
    webhook_partner_share: float = 0.5
    webhook_failing_partner_slots: int = 1
    # The sweeper re-sends a delivery due this long ago whose message has not come (lost by the broker).
    sweeper_grace_seconds: float = 60.0
    # Largest request body the API reads; bigger ones are refused with 413.
    max_request_bytes: int = 256 * 1024
    # How long a buyer stays locked out after too many wrong PINs in a row.
    pin_lockout_seconds: float = 300.0
    # Signs dashboard sessions: anyone who knows it can forge one, so production must set its own.
    secret_key: str = field(default=DEV_SECRET_KEY, repr=False)
    # Earlier keys, still accepted after a rotation: their sessions stay valid and the responses they
    # sealed for Idempotency-Key replays stay readable (a day, the keys' lifetime, is enough).
    secret_key_fallbacks: tuple[str, ...] = field(default=(), repr=False)
    environment: str = "development"
    # A dashboard session ends this long after sign-in, however active it is.
    dashboard_session_hours: float = 12.0
    # A bearer token that may read /metrics and nothing else (operator keys may read it too).
    metrics_token: str | None = field(default=None, repr=False)
    # Where prometheus_client's multiprocess mode keeps each process's samples (one directory per host).
    prometheus_multiproc_dir: str | None = None
    log_level: str = "INFO"
    # How long a client's Idempotency-Key is remembered.
    idempotency_key_ttl_seconds: float = 24 * 3600.0

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: the in-memory broker runs inside the process."""
        return not self.redis_url


def _number(
    env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0, maximum: float = math.inf
) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value):  # float() reads "nan" and "inf"
        raise ConfigurationError(f"{name} must be a finite number, got {raw!r}")
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {raw!r}")
    if value > maximum:
        raise ConfigurationError(f"{name} must be at most {maximum}, got {raw!r}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def parse_retry_schedule(raw: str) -> tuple[float, ...]:
    """``"5,300,1800"`` -> ``(5.0, 300.0, 1800.0)``; an empty string means "never retry"."""
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    try:
        schedule = tuple(float(part) for part in parts)
    except ValueError:
        raise ConfigurationError(
            f"WEBHOOK_RETRY_SCHEDULE must be seconds separated by commas, got {raw!r}"
        ) from None
    if any(not math.isfinite(delay) for delay in schedule):
        raise ConfigurationError(f"WEBHOOK_RETRY_SCHEDULE must hold finite numbers, got {raw!r}")
    if any(delay < 0 for delay in schedule):
        raise ConfigurationError("WEBHOOK_RETRY_SCHEDULE may not hold negative delays")
    return schedule


def normalise_database_url(url: str) -> str:
    """Accept Heroku's ``postgres://`` form alongside ``postgresql://``; refuse any other database."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if not url.startswith(("postgresql://", "sqlite://")):
        scheme = url.split(":", 1)[0]
        raise ConfigurationError(f"DATABASE_URL must be a postgresql:// or sqlite:// URL, not {scheme}://")
    return url


def redis_url(env: Mapping[str, str]) -> str | None:
    """``REDIS_URL``; with ``REDIS_TLS_VERIFY`` off, a TLS one that skips verifying the server's certificate
    (Heroku Redis serves a self-signed one and says to do this)."""
    url = env.get("REDIS_URL") or None
    unverified = url and url.startswith("rediss://") and not _flag(env, "REDIS_TLS_VERIFY", True)
    if url and unverified and "ssl_cert_reqs=" not in url:
        url += ("&" if "?" in url else "?") + "ssl_cert_reqs=none"
    return url


def load(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    schedule = env.get("WEBHOOK_RETRY_SCHEDULE")
    # On a Heroku dyno (DYNO is set there) an unset COURIER_ENV means production, so that a forgotten
    # setting cannot leave the dashboard's sessions signed with the development key, which is public.
    environment = env.get("COURIER_ENV") or ("production" if env.get("DYNO") else "development")
    if environment != "development" and not env.get("SECRET_KEY"):
        raise ConfigurationError(
            f"SECRET_KEY must be set when COURIER_ENV is {environment!r}: it signs dashboard sessions."
        )
    return Settings(
        database_url=normalise_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL),
        database_pool_size=int(_number(env, "DATABASE_POOL_SIZE", 8, minimum=1)),
        redis_url=redis_url(env),
        redis_namespace=env.get("REDIS_NAMESPACE") or "courier",
        # At most a third of gunicorn's default request timeout (30 s): an order waits for Redis once.
        redis_timeout_seconds=_number(env, "REDIS_TIMEOUT_SECONDS", 5.0, minimum=0.1, maximum=10),
        processing_window_seconds=_number(env, "PROCESSING_WINDOW_SECONDS", 60.0),
        webhook_timeout_seconds=_number(env, "WEBHOOK_TIMEOUT_SECONDS", 15.0, minimum=0.001),
        webhook_retry_schedule=(
            DEFAULT_RETRY_SCHEDULE if schedule is None else parse_retry_schedule(schedule)
        ),
        webhook_retry_jitter=_number(env, "WEBHOOK_RETRY_JITTER", 0.2, maximum=0.9),
        webhook_retry_after_max_seconds=_number(env, "WEBHOOK_RETRY_AFTER_MAX_SECONDS", 3600.0),
        webhook_allow_private_networks=_flag(env, "WEBHOOK_ALLOW_PRIVATE_NETWORKS"),
        endpoint_disable_after_seconds=_number(env, "ENDPOINT_DISABLE_AFTER_SECONDS", 5 * 86400.0),
        webhook_partner_share=_number(env, "WEBHOOK_PARTNER_SHARE", 0.5, minimum=0.01),
        webhook_failing_partner_slots=int(_number(env, "WEBHOOK_FAILING_PARTNER_SLOTS", 1, minimum=1)),
        sweeper_grace_seconds=_number(env, "SWEEPER_GRACE_SECONDS", 60.0),
        max_request_bytes=int(_number(env, "MAX_REQUEST_BYTES", 256 * 1024, minimum=1024)),
        pin_lockout_seconds=_number(env, "PIN_LOCKOUT_SECONDS", 300.0, minimum=1),
        secret_key=env.get("SECRET_KEY") or DEV_SECRET_KEY,
        secret_key_fallbacks=tuple(
            key.strip() for key in (env.get("SECRET_KEY_FALLBACKS") or "").split(",") if key.strip()
        ),
        environment=environment,
        dashboard_session_hours=_number(env, "DASHBOARD_SESSION_HOURS", 12.0, minimum=0.01),
        metrics_token=env.get("METRICS_TOKEN") or None,
        prometheus_multiproc_dir=env.get("PROMETHEUS_MULTIPROC_DIR") or None,
        log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
        idempotency_key_ttl_seconds=_number(env, "IDEMPOTENCY_KEY_TTL_SECONDS", 24 * 3600.0, minimum=1),
    )
