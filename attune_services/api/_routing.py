"""Route declarations: one registry from which the URL map, RBAC checks and OpenAPI are built.

Rules of this file:

1. A route is declared once with ``@api.route(...)``: method, path, the RBAC (resource,
   operation) it needs, its body and response models, its query parameters.
2. Authentication and authorisation happen here, in :meth:`Api._view`, for every route that is
   not ``public`` — never inside a handler. A handler that needs finer checks (an inquiry's
   assignee, a key's owner) raises :class:`Forbidden` itself, on top of this.
3. Lists are answered by :func:`page_of` (envelope, paging tolerance, clamped sizes); single
   objects by the route's response model, which picks exactly the declared fields.
4. Pack-scoped grants filter lists: :func:`list_repo` keeps only the rows of the packs the
   caller may read (:meth:`Call.pack_scope`); handlers with their own queries apply the same
   scope themselves, and details of another pack's row answer 403 (:meth:`Call.require`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
import orjson
from quart import Quart, Response, request
from werkzeug.datastructures import MultiDict

from attune_core.errors import BadRequest
from attune_core.model import to_json
from attune_core.security import (
    Operation,
    Resource,
    Subject,
    TokenClaims,
    is_allowed,
    pack_scope,
)
from attune_services.api import _models as m
from attune_services.api._auth import authenticate
from attune_services.api._context import ApiContext
from attune_services.api._errors import Forbidden

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
# Resources addressed by "<pack>.<name>" refs: the pack of a request is the ref's first part.
_COMPONENTS = {
    Resource.ACTION,
    Resource.TRIGGER,
    Resource.SENSOR,
    Resource.RULE,
    Resource.WORKFLOW,
    Resource.RUNTIME,
}
# For pack-scoped grants: the resource of each listed repository and the column holding the
# pack of its rows (keys: the owning pack; system and other keys are outside every pack).
_PACK_COLUMNS: Mapping[str, tuple[Resource, str]] = {
    "actions": (Resource.ACTION, "pack_ref"),
    "triggers": (Resource.TRIGGER, "pack_ref"),
    "sensors": (Resource.SENSOR, "pack_ref"),
    "rules": (Resource.RULE, "pack_ref"),
    "runtimes": (Resource.RUNTIME, "pack_ref"),
    "workflow_definitions": (Resource.WORKFLOW, "pack_ref"),
    "packs": (Resource.PACK, "ref"),
    "keys": (Resource.KEY, "owner_pack_ref"),
}


@attrs.frozen
class Param:
    """A query parameter (for the OpenAPI document; values are read with ``call.arg``)."""

    name: str
    schema: m.Schema = attrs.field(factory=lambda: dict(m.STR))
    description: str = ""


PAGING = (
    Param("page", m.INT, "page number, from 1"),
    Param("page_size", m.INT, "items per page (clamped to 100)"),
    Param("per_page", m.INT, "alias of page_size"),
    Param("limit", m.INT, "alias of page_size"),
    Param("offset", m.INT, "items to skip (instead of page)"),
)
INCLUDE_TOTAL = Param("include_total", m.BOOL, "count all matching items")


@attrs.define
class Route:
    method: str
    path: str
    handler: Callable[..., Awaitable[Any]]
    summary: str
    tag: str
    resource: Resource | None
    operation: Operation | None
    public: bool
    body: m.Model | None
    response: m.Model | None
    kind: str  # one | list | delete | raw | none
    status: int
    query: Sequence[Param]
    form: Mapping[str, m.Schema] | None
    produces: str | None
    token_in_query: bool

    @property
    def openapi_path(self) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.path)

    @property
    def path_params(self) -> list[tuple[str, str]]:
        return [
            (name, kind or "string") for kind, name in re.findall(r"<(?:(\w+):)?(\w+)>", self.path)
        ]


@attrs.define
class Call:
    """One request as a handler sees it."""

    ctx: ApiContext
    route: Route
    args: MultiDict[str, str]
    subject: Subject | None = None
    claims: TokenClaims | None = None
    body: dict[str, Any] = attrs.Factory(dict)
    raw_body: bytes = b""

    @property
    def identity_id(self) -> int:
        assert self.subject is not None
        return self.subject.identity_id

    def arg(self, name: str, default: str | None = None) -> str | None:
        value = self.args.get(name)
        return default if value in (None, "") else value

    def int_arg(self, name: str) -> int | None:
        value = self.arg(name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError as exc:
            raise BadRequest(f"query parameter {name!r} must be an integer") from exc
        if not -(2**63) <= number < 2**63:
            raise BadRequest(f"query parameter {name!r} is out of range")
        return number

    def bool_arg(self, name: str) -> bool | None:
        value = self.arg(name)
        if value is None:
            return None
        return value.lower() in ("1", "true", "yes", "on")

    def allowed(self, resource: Resource, operation: Operation, pack: str | None = None) -> bool:
        return self.subject is not None and is_allowed(self.subject, resource, operation, pack)

    def pack_scope(
        self, resource: Resource, operation: Operation = Operation.READ
    ) -> frozenset[str] | None:
        """The packs whose rows this caller may see (``None``: all), see :func:`pack_scope`."""
        if self.subject is None:
            return None if self.route.public else frozenset()
        return pack_scope(self.subject, resource, operation)

    def require(self, resource: Resource, operation: Operation, pack: str | None = None) -> None:
        if not self.allowed(resource, operation, pack):
            raise Forbidden(f"not allowed to {operation.value} {resource.value}")


class Api:
    """The registry of routes."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        resource: Resource | None = None,
        op: Operation | None = None,
        public: bool = False,
        body: m.Model | None = None,
        response: m.Model | None = None,
        kind: str = "one",
        status: int = 200,
        query: Iterable[Param] = (),
        form: Mapping[str, m.Schema] | None = None,
        produces: str | None = None,
        token_in_query: bool = False,
    ) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        query = tuple(query)
        if kind == "list":
            query = (*PAGING, *query)

        def register(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            self.routes.append(
                Route(
                    method=method,
                    path=path,
                    handler=handler,
                    summary=summary,
                    tag=tag,
                    resource=resource,
                    operation=op,
                    public=public,
                    body=body,
                    response=response,
                    kind=kind,
                    status=status,
                    query=query,
                    form=form,
                    produces=produces,
                    token_in_query=token_in_query,
                )
            )
            return handler

        return register

    def install(self, app: Quart, ctx: ApiContext) -> None:
        for index, route in enumerate(self.routes):
            app.add_url_rule(
                route.path,
                endpoint=f"r{index}_{route.handler.__name__}",
                view_func=self._view(route, ctx),
                methods=[route.method],
            )

    @staticmethod
    def _view(route: Route, ctx: ApiContext) -> Callable[..., Awaitable[Any]]:
        async def view(**path: Any) -> Any:
            call = Call(ctx=ctx, route=route, args=request.args)
            if not route.public:
                query_token = request.args.get("token") if route.token_in_query else None
                call.claims, call.subject = await authenticate(
                    ctx, request.headers.get("Authorization"), query_token
                )
                if route.resource is not None and route.operation is not None:
                    pack = _pack_of(route.resource, path)
                    call.require(route.resource, route.operation, pack)
            if route.body is not None:
                call.body = route.body.parse(await _json_body())
                pack_ref = call.body.get("pack_ref")
                if (
                    isinstance(pack_ref, str)
                    and route.resource is not None
                    and route.operation is not None
                    and not route.public
                ):
                    call.require(route.resource, route.operation, pack_ref)
            result = await route.handler(call, **path)
            if isinstance(result, Response):
                return result
            return render(route, result)

        return view


def pack_of_ref(ref: str | None) -> str | None:
    """The pack of a ``<pack>.<name>`` ref (``None`` for anything else)."""
    if not ref or "." not in ref:
        return None
    return ref.split(".", 1)[0]


def _pack_of(resource: Resource, path: Mapping[str, Any]) -> str | None:
    ref = path.get("ref")
    if not isinstance(ref, str):
        return None
    if resource is Resource.PACK:
        return ref
    if resource in _COMPONENTS and "." in ref:
        return ref.split(".", 1)[0]
    return None


async def _json_body() -> Any:
    raw = await request.get_data()
    if not raw or not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from exc
    check_storable(body)
    return body


def check_storable(value: Any) -> None:
    """Reject JSON the databases cannot store: NUL characters and lone surrogates in strings
    (PostgreSQL text and jsonb refuse both); a 400 here instead of a 500 at the INSERT."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise BadRequest("strings in the request must not contain NUL (\\u0000)")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise BadRequest("strings in the request must be valid Unicode") from None


def as_json(value: Any) -> Any:
    """An entity (attrs) as its JSON form; dicts and lists pass through."""
    if attrs.has(type(value)):
        return to_json(value)
    return value


def dump(response: m.Model | None, value: Any) -> Any:
    data = as_json(value)
    if response is None or not isinstance(data, dict):
        return data
    return response.render(data)


# orjson writes what ``json.dumps(separators=(",", ":"))`` writes, minus the \\u escapes of
# non-ASCII text, at a tenth of the CPU (a page of 50 executions: ~0.4 -> ~0.04 ms). Naive
# datetimes are UTC (SQLite's), written with "+00:00" as ``datetime.isoformat`` does for aware
# ones. What orjson refuses (integers beyond 64 bits, lone surrogates) goes through json.dumps.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return str(value)


def encode_json(body: Any) -> bytes:
    """``body`` as compact JSON (unknown types as their ``str``)."""
    try:
        return orjson.dumps(body, default=_json_default, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(body, separators=(",", ":"), default=_json_default).encode()


def json_response(body: Any, status: int = 200) -> Response:
    return Response(encode_json(body), status=status, mimetype="application/json")


@attrs.frozen
class Page:
    items: Sequence[Any]
    page: int
    page_size: int
    has_next: bool
    total: int | None = None
    # The items are already the response model's JSON objects (built by the handler from
    # exactly the declared columns): rendered as they are.
    rendered: bool = False


@attrs.frozen
class Message:
    """A response to an action on a resource: data plus a message."""

    data: Any
    message: str


def render(route: Route, result: Any) -> Response:
    if route.kind == "list":
        assert isinstance(result, Page)
        pagination: dict[str, Any] = {
            "page": result.page,
            "page_size": result.page_size,
            "has_next": result.has_next,
            "has_previous": result.page > 1,
        }
        if result.total is not None:
            pagination["total_items"] = result.total
            pagination["total_pages"] = max(1, math.ceil(result.total / result.page_size))
        items = (
            result.items
            if result.rendered
            else [dump(route.response, item) for item in result.items]
        )
        return json_response({"items": items, "pagination": pagination}, route.status)
    if route.kind == "bare":
        bare = dump(route.response, result)
        return json_response({k: v for k, v in bare.items() if v is not None}, route.status)
    if route.kind == "delete":
        message = result if isinstance(result, str) else "deleted"
        return json_response({"success": True, "message": message}, route.status)
    if isinstance(result, Message):
        return json_response(
            {"data": dump(route.response, result.data), "message": result.message}, route.status
        )
    return json_response({"data": dump(route.response, result)}, route.status)


MAX_OFFSET = 2**62  # offsets beyond this are past any table (and past a 64-bit SQL integer)


@attrs.frozen
class Paging:
    page: int
    size: int
    offset: int


def paging(call: Call, max_size: int = MAX_PAGE_SIZE) -> Paging:
    """Read page/page_size/per_page/limit/offset leniently: bad values fall back to defaults."""

    def number(name: str) -> int | None:
        value = call.args.get(name)
        try:
            return int(value) if value not in (None, "") else None
        except ValueError:
            return None

    size = next(
        (v for v in (number("page_size"), number("per_page"), number("limit")) if v is not None),
        DEFAULT_PAGE_SIZE,
    )
    size = max(1, min(size, max_size))
    page = number("page")
    offset = number("offset")
    if page is None and offset is not None and offset >= 0:
        offset = min(offset, MAX_OFFSET)
        return Paging(page=offset // size + 1, size=size, offset=offset)
    page = max(1, min(page or 1, MAX_OFFSET // size))  # a huge page is past the end, not a 500
    return Paging(page=page, size=size, offset=(page - 1) * size)


def page_of(
    rows: Sequence[Any], paged: Paging, total: int | None = None, *, rendered: bool = False
) -> Page:
    """A page from ``rows`` fetched with ``limit = size + 1`` (the extra row means has_next)."""
    return Page(
        items=list(rows[: paged.size]),
        page=paged.page,
        page_size=paged.size,
        has_next=len(rows) > paged.size,
        total=total,
        rendered=rendered,
    )


async def list_repo(
    call: Call,
    repo: str,
    *,
    filters: Mapping[str, Any] | None = None,
    totals: bool = True,
    max_size: int = MAX_PAGE_SIZE,
    enrich: Callable[[Any, list[Any]], Awaitable[list[Any]]] | None = None,
) -> Page:
    """A page of ``uow.<repo>.list(**filters)`` in the repository's order."""
    paged = paging(call, max_size)
    equals: dict[str, Any] = {k: v for k, v in (filters or {}).items() if v is not None}
    if repo in _PACK_COLUMNS:
        resource, column = _PACK_COLUMNS[repo]
        scope = call.pack_scope(resource)
        if scope is not None:
            wanted = equals.get(column)
            if wanted is not None and wanted not in scope:
                return page_of([], paged, 0 if totals else None)
            equals[column] = wanted if wanted is not None else sorted(scope)
    async with call.ctx.store.read() as uow:
        repository = getattr(uow, repo)
        rows = await repository.list(limit=paged.size + 1, offset=paged.offset, **equals)
        total = None
        if totals or call.bool_arg("include_total"):
            total = await repository.count(**equals)
        if enrich is not None:
            rows = await enrich(uow, rows)
    return page_of(rows, paged, total)
