"""RBAC decisions: permission-set grants, the built-in roles, and what a token kind may do.

Rules of this file:

1. A grant is ``{"resource": <type or "*">, "operations": [<op or "*">...], "pack"?: <ref>}``.
   A grant with ``pack`` applies only to resources of that pack.
2. Decisions are pure functions of grants and a request (resource, operation, pack); the API
   asks :func:`is_allowed` in exactly one place, before a route runs. A request that names no
   pack (a list) is let in by a pack-scoped grant; :func:`pack_scope` then says which packs'
   rows the answer may contain, and the API filters lists by it.
3. Sensor and execution tokens never carry roles of their own: they may do only what
   :data:`TOKEN_KIND_RIGHTS` lists, and only if their identity's grants allow it too.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from attune_core.security._tokens import TokenKind

__all__ = [
    "BUILTIN_PERMISSION_SETS",
    "Operation",
    "Resource",
    "Subject",
    "is_allowed",
    "merge_grants",
    "pack_scope",
    "validate_grants",
]


class Resource(enum.StrEnum):
    PACK = "pack"
    RUNTIME = "runtime"
    WORKER = "worker"
    ACTION = "action"
    TRIGGER = "trigger"
    SENSOR = "sensor"
    RULE = "rule"
    EVENT = "event"
    ENFORCEMENT = "enforcement"
    EXECUTION = "execution"
    WORKFLOW = "workflow"
    INQUIRY = "inquiry"
    KEY = "key"
    ARTIFACT = "artifact"
    HISTORY = "history"
    ANALYTICS = "analytics"
    IDENTITY = "identity"
    PERMISSION = "permission"


class Operation(enum.StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    EXECUTE = "execute"  # run actions, cancel/rerun executions
    RESPOND = "respond"  # answer inquiries


ALL = "*"
_CATALOGUE = [r.value for r in Resource if r not in (Resource.IDENTITY, Resource.PERMISSION)]
_WRITE = ["read", "create", "update", "delete"]

BUILTIN_PERMISSION_SETS: Mapping[str, Mapping[str, Any]] = {
    "core.admin": {
        "label": "Administrator",
        "description": "Everything, including identities and permissions.",
        "grants": [{"resource": ALL, "operations": [ALL]}],
    },
    "core.editor": {
        "label": "Editor",
        "description": "Create, change and run every automation resource; no user management.",
        "grants": [
            {"resource": r, "operations": [*_WRITE, "execute", "respond"]} for r in _CATALOGUE
        ],
    },
    "core.executor": {
        "label": "Executor",
        "description": "Read everything, run actions, answer inquiries, send events.",
        "grants": [
            *({"resource": r, "operations": ["read"]} for r in _CATALOGUE),
            {"resource": "execution", "operations": ["read", "create", "execute"]},
            {"resource": "action", "operations": ["read", "execute"]},
            {"resource": "inquiry", "operations": ["read", "respond"]},
            {"resource": "event", "operations": ["read", "create"]},
        ],
    },
    "core.viewer": {
        "label": "Viewer",
        "description": "Read every automation resource (key values stay hidden).",
        "grants": [{"resource": r, "operations": ["read"]} for r in _CATALOGUE],
    },
}

# What a token of each kind may ever do (intersected with its identity's grants).
TOKEN_KIND_RIGHTS: Mapping[TokenKind, Mapping[str, frozenset[str]] | None] = {
    TokenKind.ACCESS: None,  # no limit beyond the grants
    TokenKind.SENSOR: {
        "event": frozenset({"create", "read"}),
        "trigger": frozenset({"read"}),
        "sensor": frozenset({"read"}),
        "key": frozenset({"read"}),
    },
    TokenKind.EXECUTION: {
        "key": frozenset({"read", "create", "update"}),
        "artifact": frozenset({"read", "create", "update"}),
        "execution": frozenset({"read"}),
        "inquiry": frozenset({"read", "create"}),
        "event": frozenset({"create"}),
        "action": frozenset({"read"}),
    },
    TokenKind.REFRESH: {},
}


@attrs.frozen(kw_only=True)
class Subject:
    """Who is asking: the identity's grants and the kind of token it presented."""

    identity_id: int
    grants: Sequence[Mapping[str, Any]] = ()
    token_kind: TokenKind = TokenKind.ACCESS
    frozen: bool = False

    @property
    def is_admin(self) -> bool:
        return is_allowed(self, Resource.IDENTITY, Operation.UPDATE)


def _grant_applies(
    grant: Mapping[str, Any], resource: str, operation: str, pack: str | None
) -> bool:
    if grant.get("resource") not in (ALL, resource):
        return False
    operations = grant.get("operations") or []
    if ALL not in operations and operation not in operations:
        return False
    scope = grant.get("pack")
    # A pack-scoped grant covers the resources of its pack; when the request names no pack
    # (a list), it still lets the caller in, and lists are not filtered further.
    return scope in (None, ALL) or pack is None or scope == pack


def is_allowed(subject: Subject, resource: str, operation: str, pack: str | None = None) -> bool:
    """Whether ``subject`` may perform ``operation`` on ``resource`` (of ``pack``)."""
    if subject.frozen:
        return False
    rights = TOKEN_KIND_RIGHTS.get(subject.token_kind)
    if rights is not None and operation not in rights.get(str(resource), frozenset()):
        return False
    return any(_grant_applies(g, str(resource), str(operation), pack) for g in subject.grants)


def pack_scope(subject: Subject, resource: str, operation: str) -> frozenset[str] | None:
    """The packs whose ``resource`` rows ``subject`` may ``operation``: ``None`` when a grant
    without pack scope allows it (every pack), else the packs of its pack-scoped grants (empty:
    none at all)."""
    if subject.frozen:
        return frozenset()
    rights = TOKEN_KIND_RIGHTS.get(subject.token_kind)
    if rights is not None and operation not in rights.get(str(resource), frozenset()):
        return frozenset()
    packs: set[str] = set()
    for grant in subject.grants:
        if grant.get("resource") not in (ALL, str(resource)):
            continue
        operations = grant.get("operations") or []
        if ALL not in operations and str(operation) not in operations:
            continue
        scope = grant.get("pack")
        if scope in (None, ALL):
            return None
        packs.add(str(scope))
    return frozenset(packs)


def validate_grants(grants: Any) -> list[str]:
    """Problems with a list of grants (empty when valid)."""
    problems: list[str] = []
    if not isinstance(grants, list):
        return ["grants must be a list"]
    resources = {r.value for r in Resource} | {ALL}
    operations = {o.value for o in Operation} | {ALL}
    for index, grant in enumerate(grants):
        where = f"grants[{index}]"
        if not isinstance(grant, dict):
            problems.append(f"{where} must be an object")
            continue
        if grant.get("resource") not in resources:
            problems.append(f"{where}.resource must be one of {sorted(resources)}")
        ops = grant.get("operations")
        if not isinstance(ops, list) or not ops or not set(ops) <= operations:
            problems.append(f"{where}.operations must be a non-empty list of {sorted(operations)}")
        if "pack" in grant and grant["pack"] is not None and not isinstance(grant["pack"], str):
            problems.append(f"{where}.pack must be a pack ref")
    return problems


def merge_grants(sets: Iterable[Sequence[Mapping[str, Any]]]) -> list[Mapping[str, Any]]:
    """All grants of several permission sets, in order."""
    return [grant for grants in sets for grant in grants]
