"""The API's composition root: :func:`create_app` builds the Quart app from an ApiContext.

Rules of this file:

1. Cross-cutting request handling lives here: request ids, CORS, the body limit, the error
   handlers (``_errors.install``); routes come from the registry in ``routes/``.
2. Nothing here starts background work: the caller (``attune_services.run``) owns the task
   group that runs the hub, the engine and Hypercorn.
"""

from __future__ import annotations

import uuid
from typing import Any

import anyio
from quart import Quart, Response, g, jsonify, request, send_from_directory
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, PathConverter

from attune_core.resources import web_dir
from attune_services.api import _errors
from attune_services.api._auth import authenticate
from attune_services.api._context import ApiContext
from attune_services.api._openapi import DOCS_HTML, build_spec, swagger_dir
from attune_services.api.routes import api
from attune_services.notifier import install_websocket


class Int64Converter(IntegerConverter):
    """``<int:id>`` beyond a 64-bit column is a 404 of the route it names (never a 500, and
    not a 405 from another route that happens to match the path)."""

    def to_python(self, value: str) -> Any:
        number = super().to_python(value)
        if number >= 2**63:
            raise NotFound()
        return number


class WebUiPath(PathConverter):
    """A path of the web UI: anything outside the API's own prefixes, so a wrong method on an
    API route stays a 405 and an unknown API path a 404 with the API's error body."""

    regex = r"(?!(?:api|auth|ws|docs|api-spec|health|webhooks)(?:/|$))[^/].*?"


def create_app(ctx: ApiContext, *, websocket: bool = True) -> Quart:
    """The Quart application serving every route of the contract (and ``/ws``)."""
    app = Quart("attune")
    app.url_map.converters["int"] = Int64Converter
    app.config["MAX_CONTENT_LENGTH"] = ctx.settings.server.request_body_limit
    app.config["BODY_TIMEOUT"] = 60
    app.config["RESPONSE_TIMEOUT"] = None
    app.extensions["attune"] = ctx
    origins = set(ctx.settings.server.cors_origins)
    _errors.install(app)

    @app.before_request
    async def start() -> Any:
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        length = request.content_length
        if length is not None and length > ctx.settings.server.request_body_limit:
            return _errors.error_response(413, "PAYLOAD_TOO_LARGE", "request body too large")
        if request.method == "OPTIONS" and request.headers.get("Origin") in origins:
            response = Response("", status=204)
            response.headers["Access-Control-Allow-Methods"] = (
                "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            )
            response.headers["Access-Control-Allow-Headers"] = request.headers.get(
                "Access-Control-Request-Headers", "Authorization, Content-Type"
            )
            response.headers["Access-Control-Max-Age"] = "600"
            return response
        return None

    @app.after_request
    async def finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        origin = request.headers.get("Origin")
        if origin and origin in origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        return response

    api.install(app, ctx)
    spec = build_spec(api)

    @app.get("/api-spec/openapi.json")
    async def openapi() -> Response:
        return jsonify(spec)

    @app.get("/docs")
    async def docs() -> Response:
        return Response(DOCS_HTML, mimetype="text/html")

    @app.get("/docs/static/<path:name>")
    async def docs_static(name: str) -> Response:
        return await send_from_directory(swagger_dir(), name)

    if websocket and ctx.hub is not None:

        async def check(header: str | None, token: str | None) -> None:
            await authenticate(ctx, header, token)

        install_websocket(app, ctx.hub, check)
    _install_web_ui(app)
    return app


_NOT_BUILT = """<!doctype html><title>Attune</title>
<p>The Attune API is running. The web UI is not built in this installation: run
<code>make web</code> in the source checkout (it needs Node.js), then restart.
<p><a href="/docs">API documentation</a>"""


def _install_web_ui(app: Quart) -> None:
    """Serve the single-page web UI at ``/``: files from its build directory, and index.html
    for every other path that is not an API route (client-side routing, shareable URLs)."""
    root = web_dir()
    app.url_map.converters["ui"] = WebUiPath

    @app.get("/")
    @app.get("/<ui:path>")
    async def web_ui(path: str = "") -> Response:
        if root is None:
            return Response(_NOT_BUILT, mimetype="text/html")
        file = (root / path).resolve() if path else None
        if file is not None and file.is_relative_to(root.resolve()) and file.is_file():
            response = await send_from_directory(root, path)
            if path.startswith("assets/"):  # content-hashed names: cache for a year
                response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            return response
        if path.startswith("assets/"):
            raise NotFound()
        # Read whole (a few hundred bytes) rather than streamed from an open file: a client
        # that leaves before the body is sent must not leave the file open.
        index = await anyio.Path(root / "index.html").read_bytes()
        response = Response(index, mimetype="text/html")
        response.headers["Cache-Control"] = "no-cache"
        return response
