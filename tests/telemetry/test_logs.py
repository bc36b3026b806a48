import io
import json
import logging

import pytest

from telemetry.logs import (
    JsonFormatter,
    accept_request_id,
    bound_request_id,
    logging_config,
    redact,
    stop_batching,
    use_json_lines_in_batches,
)


def format_line(message: str, *args, exc_info=None, **extra) -> dict:
    record = logging.LogRecord("courier.test", logging.INFO, __file__, 1, message, args, exc_info)
    record.__dict__.update(extra)
    return json.loads(JsonFormatter().format(record))


def test_a_line_is_one_json_object_with_the_bound_request_id_and_the_extras():
    with bound_request_id("req_abc"):
        line = format_line("order %s placed", "po_1", order_id="po_1", duration_ms=12)

    assert line["message"] == "order po_1 placed"
    assert line["request_id"] == "req_abc"
    assert (line["level"], line["logger"]) == ("info", "courier.test")
    assert (line["order_id"], line["duration_ms"]) == ("po_1", 12)


def test_secrets_are_scrubbed_from_messages_extras_and_tracebacks():
    key, secret = "ck_8hQ2xv_Lq0-abc", "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="
    signature = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="
    try:
        raise ValueError(f"bad key {key}")
    except ValueError:
        import sys

        line = format_line(
            "sent %s with %s, body {'pin': '4321'}",
            secret,
            signature,
            exc_info=sys.exc_info(),
            headers={"Authorization": f"Bearer {key}", "webhook-signature": signature},
            pin="4321",
        )

    text = json.dumps(line)
    for leaked in (key, secret, signature, "4321"):
        assert leaked not in text
    assert line["headers"] == {"Authorization": "[redacted]", "webhook-signature": "[redacted]"}
    assert "bad key [redacted]" in line["exception"]


def test_what_else_may_hold_a_secret_is_scrubbed_too():
    cases = {
        "connecting to postgresql://courier:pg-pass@db.example:5432/courier": "pg-pass",
        "redis://:redis-pass@redis.example:6379/0 refused": "redis-pass",
        "Authorization: Basic dXNlcjpwYXNz": "dXNlcjpwYXNz",
        "GET /x?k=%20ck_abcdefgh123": "ck_abcdefgh123",
        "foo_ck_abcdefgh123 leaked": "ck_abcdefgh123",
        "{'new_pin': '4321'}": "4321",
        'password: "a b c"': "a b c",
        "secret=s3cr3t token=t0k3n": "s3cr3t",
    }
    for text, secret in cases.items():
        assert secret not in redact(text), text
    assert "t0k3n" not in redact("secret=s3cr3t token=t0k3n")
    line = format_line("boot", database_url="postgresql://u:p@h/db", cookie="session=abc", new_pin="9876")
    assert (line["database_url"], line["cookie"], line["new_pin"]) == ("[redacted]",) * 3


def test_redact_keeps_ordinary_text():
    assert redact("order po_1 is Pending after 12 ms") == "order po_1 is Pending after 12 ms"
    assert redact("POST https://acme.example/hooks -> 200") == "POST https://acme.example/hooks -> 200"
    assert redact("the stuck_ones are back") == "the stuck_ones are back"
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer [redacted]"


def test_a_clients_request_id_is_kept_only_when_it_is_a_sane_token():
    assert accept_request_id("mkt-2026-11-22.abc:1") == "mkt-2026-11-22.abc:1"
    for unsafe in (None, "", "two words", "x" * 200, "line\nbreak", '"quoted"'):
        assert accept_request_id(unsafe).startswith("req_")


def test_debug_logging_never_writes_the_databases_statements_and_their_parameters():
    config = logging_config("DEBUG")

    assert config["root"]["level"] == "DEBUG"
    assert config["loggers"]["peewee"]["level"] == "INFO"  # its DEBUG lines hold PIN hashes, names, emails


@pytest.fixture
def worker_root_logger():
    """The root logger as ``dramatiq workers`` leaves it in a worker process (INFO, a plain stream
    handler on the pipe to its parent), restored afterwards."""
    root, peewee = logging.getLogger(), logging.getLogger("peewee")
    saved = root.level, list(root.handlers), peewee.level
    stream = io.StringIO()
    root.handlers = [logging.StreamHandler(stream)]
    root.setLevel(logging.INFO)
    peewee.setLevel(logging.NOTSET)
    yield stream
    stop_batching()
    root.setLevel(saved[0])
    root.handlers = saved[1]
    peewee.setLevel(saved[2])


def test_a_worker_process_logs_at_log_level_but_never_the_databases_statements(worker_root_logger):
    use_json_lines_in_batches("DEBUG")
    logging.getLogger("workers.test").debug("claimed %s", 7)
    logging.getLogger("peewee").debug("('SELECT ...', ['pin hash'])")
    stop_batching()

    lines = [json.loads(line) for line in worker_root_logger.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["claimed 7"]


def test_a_worker_process_at_warning_leaves_out_its_info_lines(worker_root_logger):
    use_json_lines_in_batches("WARNING")
    logging.getLogger("workers.test").info("webhook attempt succeeded")
    logging.getLogger("workers.test").warning("webhook attempt retrying")
    stop_batching()

    lines = [json.loads(line) for line in worker_root_logger.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["webhook attempt retrying"]
