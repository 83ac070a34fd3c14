"""The OpenAPI 3.0 document, generated from the route registry and the DTO models, and the
interactive docs at ``/docs`` served from the local swagger-ui bundle (no CDN)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attune_core import __version__
from attune_services.api import _models as m
from attune_services.api._routing import Api, Route

_ERRORS = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Request body too large",
    422: "Validation error",
    429: "Too many requests",
}


def _envelope(route: Route) -> dict[str, Any]:
    item = m.ref(route.response) if route.response is not None else dict(m.ANY)
    if route.kind == "list":
        return {
            "type": "object",
            "required": ["items", "pagination"],
            "properties": {"items": m.arr(item), "pagination": m.ref(m.PAGINATION)},
        }
    if route.kind == "delete":
        return m.ref(m.DELETED)
    if route.kind == "bare":
        return item
    return {
        "type": "object",
        "required": ["data"],
        "properties": {"data": item, "message": m.STR},
    }


def _operation(route: Route) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer"} if kind == "int" else {"type": "string"},
        }
        for name, kind in route.path_params
    ]
    parameters += [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "schema": p.schema,
            **({"description": p.description} if p.description else {}),
        }
        for p in route.query
    ]
    responses: dict[str, Any] = {}
    if route.kind == "raw":
        responses[str(route.status)] = {
            "description": "OK",
            "content": {
                route.produces or "application/octet-stream": {
                    # */*: the stored content as it is (bytes, or a JSON document)
                    "schema": {}
                    if route.produces == "*/*"
                    else {"type": "string", "format": "binary"}
                }
            },
        }
    else:
        responses[str(route.status)] = {
            "description": "OK" if route.status == 200 else "Created",
            "content": {"application/json": {"schema": _envelope(route)}},
        }
    for status, text in _ERRORS.items():
        # public routes answer 401/403 too (a bad login or refresh token, registration off)
        responses[str(status)] = {
            "description": text,
            "content": {"application/json": {"schema": m.ref(m.ERROR)}},
        }
    operation: dict[str, Any] = {
        "operationId": route.handler.__name__ if route.handler.__name__ else route.path,
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if route.body is not None:
        operation["requestBody"] = {
            "required": bool(route.body.required),
            "content": {"application/json": {"schema": m.ref(route.body)}},
        }
    if route.form is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": dict(route.form)}
                }
            },
        }
    if not route.public:
        operation["security"] = [{"bearerAuth": []}]
    else:
        operation["security"] = []
    return operation


def _refs(schema: Any) -> set[str]:
    """Names of the models a schema fragment refers to."""
    if isinstance(schema, list):
        return set().union(*(_refs(item) for item in schema)) if schema else set()
    if not isinstance(schema, dict):
        return set()
    found = {schema["$ref"].rsplit("/", 1)[-1]} if "$ref" in schema else set()
    return found.union(*(_refs(value) for value in schema.values()))


def _schemas(api: Api) -> dict[str, Any]:
    """Every model's schema. A model only ever sent (never a request body) that does not name
    its required fields lists all of them: ``Model.render`` always sends every declared field,
    null when unset, so generated clients get non-optional properties."""
    by_name = {model.name: model for model in m.ALL_MODELS}
    requests = {route.body.name for route in api.routes if route.body is not None}
    sent: set[str] = set()
    pending = [route.response.name for route in api.routes if route.response is not None]
    while pending:
        name = pending.pop()
        if name in sent or name not in by_name:
            continue
        sent.add(name)
        pending.extend(_refs(dict(by_name[name].fields)))
    schemas: dict[str, Any] = {}
    for model in m.ALL_MODELS:
        schema = model.schema()
        if model.name in sent and model.name not in requests and not model.required:
            schema["required"] = list(model.fields)
        schemas[model.name] = schema
    return schemas


def build_spec(api: Api) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    for route in api.routes:
        operation = _operation(route)
        name = operation["operationId"]
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            operation["operationId"] = f"{name}_{seen[name]}"
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Attune API",
            "version": __version__,
            "description": "Event-driven automation: packs, actions, rules, executions, "
            "workflows. Errors are {error, code, details?}.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": _schemas(api),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def swagger_dir() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Attune API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/api-spec/openapi.json", dom_id: "#swagger-ui",
  deepLinking: true, persistAuthorization: true});
</script>
</body>
</html>
"""
