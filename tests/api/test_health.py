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


def test_an_unreachable_broker_makes_the_service_unready(client, monkeypatch):
    def refuse(timeout):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(health, "ping_broker", refuse)

    response = client.get("/health/ready")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"] == {
        "ok": False, "detail": "ConnectionError: connection refused", "ms": body["checks"]["broker"]["ms"]
    }  # fmt: skip
    assert body["checks"]["database"]["ok"] is True


def test_a_check_that_hangs_is_cut_off(client, monkeypatch):
    monkeypatch.setattr(health, "CHECK_TIMEOUT_SECONDS", 0.1)
    monkeypatch.setattr(health, "ping_broker", lambda timeout: time.sleep(1))

    started = time.monotonic()
    response = client.get("/health/ready")

    assert response.status_code == 503
    assert time.monotonic() - started < 0.9
    assert response.get_json()["checks"]["broker"]["detail"] == "no answer within 0.1s"
