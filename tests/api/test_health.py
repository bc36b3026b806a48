import time

from api import health


def test_liveness_answers_without_a_key(client):
    response = client.get("/health")

    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readiness_times_the_database_and_the_broker(client, settings):
    response = client.get("/health/ready")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["detail"] == ("in-memory" if settings.embedded else "redis")
    assert all(check["ms"] >= 0 for check in body["checks"].values())


def test_an_unreachable_broker_makes_the_service_unready(client, monkeypatch, caplog):
    def refuse(timeout):
        raise ConnectionError("connection to 10.0.0.7:6379 refused")

    monkeypatch.setattr(health, "ping_broker", refuse)

    response = client.get("/health/ready")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"] == {
        "ok": False, "detail": "ConnectionError: see the log", "ms": body["checks"]["broker"]["ms"]
    }  # fmt: skip
    assert body["checks"]["database"]["ok"] is True
    assert "10.0.0.7" in caplog.text  # for the operator, not for whoever asks the public probe


def test_a_check_that_hangs_is_cut_off(client, monkeypatch):
    monkeypatch.setattr(health, "CHECK_TIMEOUT_SECONDS", 0.1)
    monkeypatch.setattr(health, "ping_broker", lambda timeout: time.sleep(1))

    started = time.monotonic()
    response = client.get("/health/ready")

    assert response.status_code == 503
    assert time.monotonic() - started < 0.9
    assert response.get_json()["checks"]["broker"]["detail"] == "no answer within 0.1s"
