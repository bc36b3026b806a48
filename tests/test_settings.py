import pytest

import settings


def test_defaults_suit_a_laptop():
    loaded = settings.load({})

    assert loaded.database_url.startswith("sqlite:///") and loaded.database_url.endswith("var/courier.db")
    assert loaded.redis_url is None and loaded.embedded
    assert loaded.processing_window_seconds == 60
    assert loaded.webhook_timeout_seconds == 15
    assert loaded.webhook_retry_schedule == (5, 300, 1800, 7200, 18000, 36000, 36000)


def test_herokus_postgres_scheme_is_understood():
    loaded = settings.load({"DATABASE_URL": "postgres://u:p@db.example:5432/courier"})

    assert loaded.database_url == "postgresql://u:p@db.example:5432/courier"


def test_the_retry_schedule_is_seconds_separated_by_commas():
    assert settings.load({"WEBHOOK_RETRY_SCHEDULE": "1, 2.5,60"}).webhook_retry_schedule == (1, 2.5, 60)
    with pytest.raises(settings.ConfigurationError):
        settings.load({"WEBHOOK_RETRY_SCHEDULE": "5,soon"})
    with pytest.raises(settings.ConfigurationError):
        settings.load({"PROCESSING_WINDOW_SECONDS": "a minute"})


@pytest.mark.parametrize(
    "env, named",
    [
        ({"WEBHOOK_RETRY_SCHEDULE": "nan"}, "WEBHOOK_RETRY_SCHEDULE"),  # every retry at once
        ({"WEBHOOK_TIMEOUT_SECONDS": "nan"}, "WEBHOOK_TIMEOUT_SECONDS"),  # every claim's lease broken
        ({"DATABASE_POOL_SIZE": "inf"}, "DATABASE_POOL_SIZE"),
        ({"WEBHOOK_RETRY_JITTER": "5"}, "WEBHOOK_RETRY_JITTER"),  # most retries at 0 s
        ({"PIN_LOCKOUT_SECONDS": "0"}, "PIN_LOCKOUT_SECONDS"),  # no lockout at all
        ({"REDIS_TIMEOUT_SECONDS": "0"}, "REDIS_TIMEOUT_SECONDS"),  # every idle consumer's wait fails
        ({"DATABASE_URL": "mysql://u@db.example/courier"}, "DATABASE_URL"),  # a 500 on every request
    ],
)
def test_a_value_that_would_start_and_then_misbehave_stops_the_process_naming_the_variable(env, named):
    with pytest.raises(settings.ConfigurationError, match=named):
        settings.load(env)


def test_on_a_heroku_dyno_an_unset_courier_env_means_production():
    with pytest.raises(settings.ConfigurationError, match="SECRET_KEY"):  # never the public development key
        settings.load({"DYNO": "web.1"})

    assert settings.load({"DYNO": "web.1", "SECRET_KEY": "s3cret"}).environment == "production"
    assert settings.load({"DYNO": "web.1", "COURIER_ENV": "development"}).environment == "development"


def test_a_pin_lockout_lasts_five_minutes_unless_configured():
    assert settings.load({}).pin_lockout_seconds == 300
    assert settings.load({"PIN_LOCKOUT_SECONDS": "60"}).pin_lockout_seconds == 60
    with pytest.raises(settings.ConfigurationError):
        settings.load({"PIN_LOCKOUT_SECONDS": "five minutes"})


def test_outside_development_the_session_signing_key_must_be_set():
    with pytest.raises(settings.ConfigurationError, match="SECRET_KEY"):
        settings.load({"COURIER_ENV": "production"})

    loaded = settings.load({"COURIER_ENV": "production", "SECRET_KEY": "s3cret"})

    assert loaded.environment == "production" and loaded.secret_key == "s3cret"
    assert loaded.secret_key_fallbacks == ()
    rotated = settings.load({"SECRET_KEY": "new", "SECRET_KEY_FALLBACKS": "old, older,"})
    assert rotated.secret_key_fallbacks == ("old", "older")
    assert loaded.dashboard_session_hours == 12


def test_heroku_redis_tls_may_skip_verifying_its_self_signed_certificate():
    heroku = {"REDIS_URL": "rediss://:pw@redis.example:6380", "REDIS_TLS_VERIFY": "0"}

    assert settings.load(heroku).redis_url == "rediss://:pw@redis.example:6380?ssl_cert_reqs=none"
    assert settings.load({**heroku, "REDIS_TLS_VERIFY": "1"}).redis_url == "rediss://:pw@redis.example:6380"
    assert settings.load({"REDIS_URL": "redis://localhost:6379/0", "REDIS_TLS_VERIFY": "0"}).redis_url == (
        "redis://localhost:6379/0"
    )
