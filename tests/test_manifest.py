"""What an operator deploys from: the Procfile, app.json and the Python version agree with the code."""

import json
import re
import runpy

import pytest

import settings
from tests.conftest import PROJECT_ROOT

READERS = ("settings.py", "gunicorn.conf.py", "Procfile")


def read(name: str) -> str:
    return (PROJECT_ROOT / name).read_text()


def test_the_procfile_declares_release_web_worker_and_clock():
    processes = dict(line.split(": ", 1) for line in read("Procfile").splitlines() if line.strip())

    assert processes["release"] == "python -m scripts.migrate"
    assert processes["web"].startswith("gunicorn ") and "gunicorn.conf.py" in processes["web"]
    assert processes["worker"].startswith("dramatiq-gevent workers ")
    assert "${WORKER_PROCESSES:-2}" in processes["worker"]
    assert "${WORKER_GREENLETS:-256}" in processes["worker"]
    assert processes["clock"] == "python -m scripts.clock"


def test_app_json_names_the_add_ons_and_only_variables_the_code_reads():
    manifest = json.loads(read("app.json"))
    code = "".join(read(name) for name in READERS)

    assert {addon["plan"] for addon in manifest["addons"]} == {"heroku-postgresql", "heroku-redis"}
    assert set(manifest["formation"]) == {"web", "worker", "clock"}
    assert manifest["env"]["SECRET_KEY"]["generator"] == "secret"
    for name in manifest["env"]:
        assert re.search(rf"\b{name}\b", code), f"app.json names {name}, which nothing reads"
    for attached in ("DATABASE_URL", "REDIS_URL"):  # set by the add-ons
        assert attached in read("settings.py")


def test_the_python_version_is_pinned_to_the_one_the_code_targets():
    assert read(".python-version").strip() == "3.11"
    assert 'target-version = "py311"' in read("pyproject.toml")


def test_gunicorn_takes_its_shape_from_the_environment(monkeypatch):
    for name, value in {
        "PORT": "5123",
        "BIND_HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "3",
        "WEB_THREADS": "1",
        "FORWARDED_ALLOW_IPS": "*",
    }.items():
        monkeypatch.setenv(name, value)

    config = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))

    assert config["bind"] == "127.0.0.1:5123"
    assert (config["workers"], config["threads"], config["worker_class"]) == (3, 1, "sync")
    assert config["forwarded_allow_ips"] == "*"  # Heroku's X-Forwarded-Proto is believed
    assert config["graceful_timeout"] < 30  # inside the dyno's stop window
    assert config["logconfig_dict"]["formatters"]["json"]


@pytest.mark.parametrize("value", ["0", "abc", "-2"])
def test_gunicorn_refuses_a_process_count_it_would_start_and_serve_nobody_with(monkeypatch, value):
    monkeypatch.setenv("WEB_CONCURRENCY", value)

    with pytest.raises(settings.ConfigurationError, match="WEB_CONCURRENCY"):
        runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
