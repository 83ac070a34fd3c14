"""Packs: the loader (pack directory -> specs) and registration (specs -> database).

``load_pack(path)`` reads and validates a pack directory without touching the database and
returns a :class:`PackSpec`, or raises :class:`PackLoadError` listing every problem with its
file and line. ``register_pack(store, path)`` loads (if needed) and writes the pack in one
transaction: idempotent, all-or-nothing, in dependency order. See docs/packs.md.
"""

from __future__ import annotations

from attune_core.packs._errors import PackLoadError
from attune_core.packs._loader import RUNNER_ALIASES, load_pack, runner_ref
from attune_core.packs._register import (
    RegistrationResult,
    register_pack,
    register_packs,
    unregister_pack,
)
from attune_core.packs._spec import (
    ActionSpec,
    PackSpec,
    PackWarning,
    PolicySpec,
    RuleSpec,
    RunnerRef,
    RuntimeSpec,
    RuntimeVersionSpec,
    SensorSpec,
    Source,
    TriggerSpec,
    WorkflowSpec,
)
from attune_core.packs._versions import (
    Dependency,
    VersionConstraint,
    parse_dependency,
    parse_version,
)

__all__ = [
    "RUNNER_ALIASES",
    "ActionSpec",
    "Dependency",
    "PackLoadError",
    "PackSpec",
    "PackWarning",
    "PolicySpec",
    "RegistrationResult",
    "RuleSpec",
    "RunnerRef",
    "RuntimeSpec",
    "RuntimeVersionSpec",
    "SensorSpec",
    "Source",
    "TriggerSpec",
    "VersionConstraint",
    "WorkflowSpec",
    "load_pack",
    "parse_dependency",
    "parse_version",
    "register_pack",
    "register_packs",
    "runner_ref",
    "unregister_pack",
]
