"""Fixtures, and the choice of tier.

Two tiers run the same tests:
  * SQLite tier (always): a temporary SQLite file, Dramatiq's in-memory broker, worker threads in this
    process.
  * Service tier (when ``DATABASE_URL`` and ``REDIS_URL`` are both set): a fresh PostgreSQL database
    made for this run, the Redis broker under a namespace of this run's own, and a real
    ``dramatiq workers`` process.
Either way the webhooks go over real HTTP to a receiver on 127.0.0.1, and everything made for the run is
removed at its end.

The environment is arranged here, at import, because the broker is built from it when ``workers`` is
first imported.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from werkzeug.serving import make_server

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SERVICE_TIER = bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
RUN_ID = uuid.uuid4().hex[:10]

# Short timings, so that no test waits for the production schedule.
TEST_ENVIRONMENT = {
    "PROCESSING_WINDOW_SECONDS": "60",
    "WEBHOOK_RETRY_SCHEDULE": "0.1,0.2",
    "WEBHOOK_RETRY_JITTER": "0",
    "WEBHOOK_TIMEOUT_SECONDS": "1",
    "WEBHOOK_RETRY_AFTER_MAX_SECONDS": "1.5",
    "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1",
    "dramatiq_worker_timeout": "50",  # how long an idle consumer waits before polling again (ms)
}


def _with_database(url: str, name: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path="/" + name))


def _create_postgres_database(server_url: str, name: str) -> None:
    import psycopg2

    connection = psycopg2.connect(server_url.replace("postgres://", "postgresql://", 1))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def _drop_postgres_database(server_url: str, name: str) -> None:
    import psycopg2

    connection = psycopg2.connect(server_url.replace("postgres://", "postgresql://", 1))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


SERVER_DATABASE_URL = os.environ.get("DATABASE_URL", "")
TEST_DATABASE = f"courier_test_{RUN_ID}"
SQLITE_DIR = None if SERVICE_TIER else tempfile.mkdtemp(prefix="courier-test-")
# Metrics in multiprocess mode, as in production: on the service tier the dramatiq process writes to
# the same directory, and the test's /metrics adds its samples up with the API's.
METRICS_DIR = tempfile.mkdtemp(prefix="courier-metrics-")

os.environ.update(TEST_ENVIRONMENT)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = METRICS_DIR
if SERVICE_TIER:
    _create_postgres_database(SERVER_DATABASE_URL, TEST_DATABASE)
    os.environ["DATABASE_URL"] = _with_database(SERVER_DATABASE_URL, TEST_DATABASE)
    os.environ["REDIS_NAMESPACE"] = f"courier-test-{RUN_ID}"
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_DIR}/courier.db"
    os.environ.pop("REDIS_URL", None)

from peewee import OperationalError  # noqa: E402

import settings as settings_module  # noqa: E402  (after the environment is arranged)
from models import MODELS  # noqa: E402
from models.db import close_connection, db  # noqa: E402
from scripts.migrate import migrate  # noqa: E402
from telemetry.logs import JsonFormatter  # noqa: E402
from tests.receiver import Receiver  # noqa: E402


def pytest_report_header(config):
    tier = (
        "service tier: PostgreSQL + Redis + dramatiq process"
        if SERVICE_TIER
        else "SQLite tier: in-memory broker"
    )
    return f"courier: {tier} (run {RUN_ID})"


@pytest.fixture(scope="session")
def settings():
    return settings_module.load()


@pytest.fixture(scope="session", autouse=True)
def schema(settings):
    migrate(settings.database_url, settings.database_pool_size)
    yield
    close_connection()
    if hasattr(db.obj, "close_all"):  # the PostgreSQL pool's idle connections
        db.obj.close_all()
    if SERVICE_TIER:
        _drop_postgres_database(SERVER_DATABASE_URL, TEST_DATABASE)
        _delete_redis_namespace(os.environ["REDIS_URL"], os.environ["REDIS_NAMESPACE"])
    else:
        shutil.rmtree(SQLITE_DIR, ignore_errors=True)
    shutil.rmtree(METRICS_DIR, ignore_errors=True)


def _delete_redis_namespace(url: str, namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session")
def broker(schema):
    from workers.broker import broker

    return broker


class _ProcessWorker:
    """A real ``dramatiq workers`` process, with this run's environment."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "workers", "--processes", "1", "--threads", "4"],
            cwd=PROJECT_ROOT,
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        if not self.ready.wait(30):
            self.stop()
            raise RuntimeError("the dramatiq worker did not start:\n" + "".join(self.output[-40:]))

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if "ready for action" in line:
                self.ready.set()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session", autouse=True)
def worker(broker):
    """Whatever consumes the queues for this tier, running for the whole session."""
    if SERVICE_TIER:
        process = _ProcessWorker()
        yield process
        process.stop()
        return
    import dramatiq

    threads = dramatiq.Worker(broker, worker_threads=4, worker_timeout=50)
    threads.start()
    yield threads
    threads.stop()


@pytest.fixture(autouse=True)
def clean_database(schema):
    """Every test starts from empty tables.

    A message left over from an earlier test may still be in flight: the actors are idempotent, so at
    worst it acts on a row of this test the way a duplicate message would. Deleting row by row (not
    TRUNCATE, which locks whole tables) and retrying a deadlock keeps the cleanup out of its way.
    """
    for attempt in range(5):
        try:
            with db.connection_context(), db.atomic():
                for model in reversed(MODELS):
                    model.delete().execute()
            break
        except OperationalError:
            if attempt == 4:
                raise
    yield
    close_connection()


@pytest.fixture(scope="session")
def app(settings):
    from api import create_app

    application = create_app(settings)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def make_app(settings):
    """An app with some settings changed: ``make_app(processing_window_seconds=0.3)``."""
    from api import create_app

    def build(**overrides):
        application = create_app(replace(settings, **overrides))
        application.config["TESTING"] = True
        return application

    return build


@pytest.fixture
def client(app):
    return app.test_client()


class LogLines(logging.Handler):
    """Every log line of this process as the JSON formatter writes it, formatted as it is emitted (the
    request id is the emitting thread's), plus on the service tier the dramatiq process's lines."""

    def __init__(self, worker) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []
        self.worker_output = getattr(worker, "output", [])
        self.worker_start = len(self.worker_output)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def all(self) -> list[str]:
        worker_lines = [line.strip() for line in self.worker_output[self.worker_start :]]
        return self.lines + [line for line in worker_lines if line.startswith("{")]

    def documents(self) -> list[dict]:
        return [json.loads(line) for line in self.all()]


@pytest.fixture
def log_lines(worker):
    """The JSON log lines written while the test runs, from this process and the worker's."""
    handler = LogLines(worker)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def receiver():
    """A partner endpoint on 127.0.0.1 that records what it receives and answers as told."""
    with Receiver() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def live_server(app):
    """The application on a free port of 127.0.0.1, for the whole session; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
