"""The Flask application factory: ``gunicorn "api:create_app()"`` and ``flask --app api …``."""

from __future__ import annotations

import logging

from flask import Flask

import settings as settings_module
from models.db import close_connection, init_db

logger = logging.getLogger(__name__)


def create_app(config: settings_module.Settings | None = None) -> Flask:
    settings = config or settings_module.load()
    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SECRET_KEY_FALLBACKS=list(settings.secret_key_fallbacks),
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    init_db(settings.database_url, pool_size=settings.database_pool_size)

    # A connection is taken lazily by the first query and handed back when the request ends.
    app.teardown_request(lambda exc: close_connection())

    from api import (
        cli,
        dashboard,
        deliveries,
        docs,
        errors,
        generic,
        health,
        instrumentation,
        metrics,
        orders,
        partners,
        products,
        security_headers,
        users,
        validation,
    )

    instrumentation.init_app(app)
    security_headers.init_app(app)
    app.before_request(validation.refuse_an_oversized_stream)
    app.before_request(validation.refuse_impossible_input)
    errors.register_error_handlers(app)
    for module in (health, metrics, docs, partners, products, users, orders, deliveries, generic):
        app.register_blueprint(module.bp)
    dashboard.init_app(app)
    app.cli.add_command(cli.partners_cli)
    app.cli.add_command(cli.keys_cli)
    app.cli.add_command(cli.deliveries_cli)
    app.cli.add_command(cli.reconciliation_cli)
    return app
