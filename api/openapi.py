"""The OpenAPI 3.1 document, generated from the routes and the pydantic models that validate them.

Each view says what it takes and answers with ``@documented(...)``; the document walks ``app.url_map``,
reads those notes and the views' guards (``@allow``'s roles, ``@idempotent``), and emits the models'
JSON Schemas as components. Nothing in it is written by hand, so it cannot fall behind the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.routing import Rule

from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.instrumentation import REQUEST_ID_HEADER
from api.responses import ErrorOut
from api.validation import MAX_INTEGER_ID

TEXT = "text/plain"
REF_TEMPLATE = "#/components/schemas/{model}"

# How the document describes each status; the refusals are implied by what a view does (see _responses).
_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    304: "Not modified: If-None-Match holds the ETag the resource still has.",
    400: "The request is malformed or a field is invalid; the answer names each one.",
    401: "No API key, or not a valid one.",
    403: "This role may not do this.",
    404: "No such resource, or not one this key may see.",
    409: "The resource's state does not allow this.",
    412: "If-Match names no current version of the resource: it changed since it was read.",
    413: "The request body is too large.",
    422: "This Idempotency-Key was used for a different request.",
    503: "A dependency is unavailable; retry shortly.",
}


@dataclass(frozen=True)
class Operation:
    summary: str
    description: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    responses: dict[int, type[BaseModel] | str | None]
    public: bool = False


def documented(
    summary: str,
    *,
    responses: dict[int, type[BaseModel] | str | None],
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    public: bool = False,
) -> Callable[[Callable], Callable]:
    """Describe a view for the OpenAPI document: ``responses`` maps each status it may give to the model
    of its JSON body (or ``TEXT``, or None for no body); a 304 makes it a conditional GET, answering
    ``If-None-Match`` with its 200's ``ETag``. The view's docstring becomes its description."""

    def note(view: Callable) -> Callable:
        description = " ".join((view.__doc__ or "").split())
        view.openapi = Operation(summary, description, body, query, responses, public=public)  # type: ignore[attr-defined]
        return view

    return note


_PLACEHOLDER = re.compile(r"<(?:(?P<converter>[^:<>]+):)?(?P<name>[^<>]+)>")


def _path(rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    """``/deliveries/<int:delivery_id>`` -> ``/deliveries/{delivery_id}`` and its path parameters."""
    parameters = []
    for placeholder in _PLACEHOLDER.finditer(rule.rule):
        is_int = placeholder["converter"] == "int"
        schema: dict[str, Any] = (
            {"type": "integer", "minimum": 0, "maximum": MAX_INTEGER_ID} if is_int else {"type": "string"}
        )
        parameters.append({"name": placeholder["name"], "in": "path", "required": True, "schema": schema})
    return _PLACEHOLDER.sub(r"{\g<name>}", rule.rule), parameters


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or text; ``X | None`` in its model means only "may be left out"."""
    options = [option for option in schema.get("anyOf", []) if option != {"type": "null"}]
    if len(options) == 1:
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default", "title")}
        return {**options[0], **rest}
    return {k: v for k, v in schema.items() if k not in ("default", "title")}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    required = set(schema.get("required", []))
    parameters = []
    for name, property_schema in schema["properties"].items():
        parameter_schema = _not_null(property_schema)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in parameter_schema:
            parameter["description"] = parameter_schema.pop("description")
        parameter["schema"] = parameter_schema
        parameters.append(parameter)
    return parameters


class _Schemas:
    """Collects the models an operation names, to emit their JSON Schemas as components at the end."""

    def __init__(self) -> None:
        self.models: dict[tuple[type[BaseModel], str], None] = {}

    def ref(self, model: type[BaseModel], mode: str) -> dict[str, str]:
        self.models[(model, mode)] = None
        return {"$ref": REF_TEMPLATE.format(model=model.__name__)}

    def components(self) -> dict[str, Any]:
        keys = list(self.models)
        refs, definitions = models_json_schema(keys, ref_template=REF_TEMPLATE)  # type: ignore[arg-type]
        for (model, _), ref in refs.items():
            if ref != {"$ref": REF_TEMPLATE.format(model=model.__name__)}:
                # Pydantic renamed it: two models share a name, or one serves as request and response.
                raise RuntimeError(f"{model.__name__} cannot be named in the document as it is")
        return definitions.get("$defs", {})


def _responses(operation: Operation, view: Callable, has_path_parameters: bool, schemas: _Schemas) -> dict:
    statuses: dict[int, type[BaseModel] | str | None] = dict(operation.responses)
    guarded = getattr(view, "allowed_roles", None) is not None
    implied = {
        400: operation.body is not None or operation.query is not None,
        401: guarded,
        403: guarded,
        404: has_path_parameters,
        409: getattr(view, "idempotent", False),
        413: operation.body is not None,
        422: getattr(view, "idempotent", False),
        503: guarded,
    }
    for status, applies in implied.items():
        if applies:
            statuses.setdefault(status, ErrorOut)
    rendered: dict[str, Any] = {}
    for status, model in sorted(statuses.items()):
        response: dict[str, Any] = {"description": _STATUS_TEXT.get(status, "")}
        if model is TEXT:
            response["content"] = {TEXT: {"schema": {"type": "string"}}}
        elif isinstance(model, type):
            response["content"] = {"application/json": {"schema": schemas.ref(model, "serialization")}}
        if status == 200 and 304 in statuses:
            response["headers"] = {
                "ETag": {"description": "Send it back in If-None-Match.", "schema": {"type": "string"}}
            }
        rendered[str(status)] = response
    # Whatever else goes wrong is answered in the error envelope too.
    rendered["default"] = {
        "description": "An error.",
        "content": {"application/json": {"schema": schemas.ref(ErrorOut, "serialization")}},
    }
    return rendered


def _operation(rule: Rule, view: Callable, operation: Operation, schemas: _Schemas) -> tuple[str, dict]:
    path, parameters = _path(rule)
    if operation.query is not None:
        parameters += _query_parameters(operation.query)
    if 304 in operation.responses:  # a conditional GET
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "The ETag of the copy you hold: while the resource is unchanged, the answer "
                "is a 304 without a body.",
                "schema": {"type": "string"},
            }
        )
    if 412 in operation.responses:  # a conditional change
        parameters.append(
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "description": "The ETag of the version you read: the change is made only while it is "
                "current, and is otherwise a 412.",
                "schema": {"type": "string"},
            }
        )
    if getattr(view, "idempotent", False):
        parameters.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": "Makes a retry safe: the same key and request replay the first response "
                "(for 24 hours); the same key with another request is a 422.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
            }
        )
    document: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_"),
        "summary": operation.summary,
        "tags": [rule.endpoint.split(".")[0]],
    }
    roles = getattr(view, "allowed_roles", None)
    description = operation.description
    if roles:
        description = f"{description}\n\nRoles: {', '.join(roles)}.".strip()
    if description:
        document["description"] = description
    if parameters:
        document["parameters"] = parameters
    if operation.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.ref(operation.body, "validation")}},
        }
    document["responses"] = _responses(operation, view, "{" in path, schemas)
    if operation.public:
        document["security"] = []
    return path, document


def build_document(app: Flask) -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        operation = getattr(view, "openapi", None)
        if operation is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            path, document = _operation(rule, view, operation, schemas)
            paths.setdefault(path, {})[method.lower()] = document
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Courier",
            "version": "1",
            "description": "Orders from the marketplace, delivered to partners as signed webhooks. Every "
            f"request may carry an `{REQUEST_ID_HEADER}`; each response returns the id its log lines carry.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas.components(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key (ck_…): operator, marketplace or partner.",
                }
            },
        },
        "security": [{"bearer": []}],
    }
