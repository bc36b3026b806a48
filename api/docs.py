"""``GET /openapi.json`` and ``GET /docs``: the API described, for programs and for people.

The page (``templates/api_docs.html``) is rendered from the same document, on the server, with no
script or stylesheet fetched from elsewhere.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, render_template

from api.openapi import build_document

bp = Blueprint("docs", __name__)


def document() -> dict[str, Any]:
    """Built once per application: the routes do not change while it runs."""
    if "openapi" not in current_app.extensions:
        current_app.extensions["openapi"] = build_document(current_app)
    return current_app.extensions["openapi"]


@bp.get("/openapi.json")
def openapi_json():
    return document()


def _schema_name(content: dict[str, Any] | None) -> str | None:
    for media in (content or {}).values():
        ref = media.get("schema", {}).get("$ref", "")
        return ref.rsplit("/", 1)[-1] or None
    return None


@bp.get("/docs")
def docs():
    doc = document()
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            body = _schema_name(operation.get("requestBody", {}).get("content"))
            responses = [
                (status, {"schema": _schema_name(r.get("content")), "description": r["description"]})
                for status, r in operation["responses"].items()
            ]
            entry = {**operation, "path": path, "method": method, "body": body, "responses": responses}
            groups.setdefault(operation["tags"][0], []).append(entry)
    schemas = [(name, json.dumps(schema, indent=2)) for name, schema in doc["components"]["schemas"].items()]
    return render_template("api_docs.html", doc=doc, groups=sorted(groups.items()), schemas=schemas)
