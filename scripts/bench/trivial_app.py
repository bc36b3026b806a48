"""The framework's limit for benchmark 3: a Flask app whose one endpoint reads a JSON body and answers."""

from __future__ import annotations

from flask import Flask, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/orders")
    def accept():
        request.get_json(force=True)
        return {"ok": True}, 201

    return app
