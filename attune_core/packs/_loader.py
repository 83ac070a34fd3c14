"""Pack directory -> :class:`PackSpec`. Pure: reads files, never touches the database.

Rules of this file:

1. Report everything. Each check appends a :class:`~attune_core.errors.PackError` (file, line,
   reason) and loading goes on with a best-effort value; :func:`load_pack` raises one
   :class:`PackLoadError` with the whole list at the end.
2. Packs written for the original system load unchanged. So unknown keys are never fatal: in
   ``pack.yaml`` they are kept in ``meta`` (with a warning); in component files they are
   ignored with a warning. Aliases the original accepted are accepted (``entrypoint`` for
   ``entry_point``, ``output`` for ``output_schema``, ``trigger``/``action`` for
   ``trigger_ref``/``action_ref``, ``runner_type: python3``...).
3. Refs of a pack's components belong to the pack: ``ref`` defaults to ``<pack>.<name>`` (name
   defaulting to the file stem), a ref without a dot is a name, and a ref of another pack is an
   error (registering it would overwrite another pack's component).
4. Every file a component names (entry points, workflow files) must exist inside the pack
   directory; a path escaping it is an error.
5. What needs the database (does runtime ``core.python`` exist? is dependency ``other>=2``
   registered?) is left to :mod:`attune_core.packs._register`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from attune_core.errors import PackError
from attune_core.model import OutputFormat, ParameterDelivery, ParameterFormat, PolicyMethod
from attune_core.packs._errors import PackLoadError
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
from attune_core.packs._yaml import YamlDoc, load_yaml
from attune_core.schema import check_schema, normalize_schema, parameter_problems
from attune_core.workflow import WorkflowDefinitionError, parse_workflow

__all__ = ["RUNNER_ALIASES", "load_pack", "runner_ref"]

E = TypeVar("E", bound=StrEnum)

# runner_type values of the original system and the runtime each one means.
RUNNER_ALIASES: Mapping[str, str] = {
    "shell": "core.shell",
    "bash": "core.shell",
    "sh": "core.shell",
    "python": "core.python",
    "python3": "core.python",
    "node": "core.nodejs",
    "nodejs": "core.nodejs",
    "node.js": "core.nodejs",
    "native": "core.native",
    "builtin": "core.native",
    "standalone": "core.native",
}
# runner_type values that make an action a workflow (its entry point is the workflow file).
WORKFLOW_RUNNERS = frozenset({"workflow", "orquesta"})
# An action without runner_type runs in the runtime its entry point's extension suggests.
_BY_EXTENSION = {".sh": "core.shell", ".bash": "core.shell", ".py": "core.python"}
_BY_EXTENSION.update({".js": "core.nodejs", ".mjs": "core.nodejs", ".cjs": "core.nodejs"})

PACK_REF = re.compile(r"^[a-z][a-z0-9_-]+$")
COMPONENT_REF = re.compile(r"^[a-z][a-z0-9_-]*\.[A-Za-z0-9_][A-Za-z0-9_.-]*$")
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
PACK_VERSION = re.compile(r"^\d+(\.\d+){0,2}([-+][0-9A-Za-z.+-]+)?$")

_PACK_KEYS = frozenset(
    {
        "ref",
        "name",
        "label",
        "description",
        "version",
        "author",
        "email",
        "conf_schema",
        "config",
        "meta",
        "tags",
        "runtime_deps",
        "dependencies",
        "is_standard",
        "system",
    }
)
_COMMON_KEYS = frozenset({"ref", "name", "label", "description", "enabled", "pack", "tags"})
_RUNTIME_KEYS = frozenset(
    {
        "ref",
        "name",
        "description",
        "pack",
        "distributions",
        "installation",
        "execution_config",
        "versions",
        "aliases",
    }
)
_VERSION_KEYS = frozenset(
    {"version", "execution_config", "distributions", "is_default", "meta", "description"}
)
_TRIGGER_KEYS = _COMMON_KEYS | {"type", "parameters", "output", "payload_schema"}
_ACTION_KEYS = _COMMON_KEYS | {
    "runner_type",
    "entry_point",
    "entrypoint",
    "parameter_delivery",
    "parameter_format",
    "output_format",
    "parameters",
    "output_schema",
    "output",
    "timeout",
    "runtime_version",
    "workflow_file",
}
_SENSOR_KEYS = _COMMON_KEYS | {
    "runner_type",
    "entry_point",
    "entrypoint",
    "trigger_types",
    "parameters",
    "poll_interval",
    "runtime_version",
    "config",
}
_RULE_KEYS = _COMMON_KEYS | {
    "trigger",
    "trigger_ref",
    "action",
    "action_ref",
    "conditions",
    "criteria",
    "action_params",
    "trigger_params",
}
_POLICY_KEYS = _COMMON_KEYS | {
    "action",
    "action_ref",
    "resource_ref",
    "policy_type",
    "parameters",
    "method",
    "threshold",
}
# Rule condition operators (api-contract.md, Rules).
RULE_OPERATORS = frozenset(
    {
        *("equals", "nequals", "iequals", "contains", "icontains", "ncontains", "incontains"),
        *("startswith", "istartswith", "endswith", "iendswith", "lessthan", "greaterthan"),
        *("matchwildcard", "matchregex", "regex", "iregex", "exists", "nexists", "inside"),
        *("ninside", "timediff_lt", "timediff_gt", "search"),
    }
)


def runner_ref(runner_type: str) -> str:
    """Map a ``runner_type`` to the runtime to look up (aliases -> ``core.*``, else as is)."""
    return RUNNER_ALIASES.get(runner_type.strip().lower(), runner_type.strip())


def load_pack(path: str | os.PathLike[str]) -> PackSpec:
    """Read and validate the pack directory at ``path``.

    Args:
        path: The pack directory (the one holding ``pack.yaml``).

    Returns:
        The pack's specs, with warnings for harmless oddities.

    Raises:
        PackLoadError: Listing every problem found, each with file, line and reason.
    """
    return _Loader(Path(path)).load()


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        type(value), "a list" if isinstance(value, list) else "a map"
    )


class _Loader:
    """One load of one pack directory; collects errors and warnings as it goes."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.errors: list[PackError] = []
        self.warnings: list[PackWarning] = []
        self.pack_ref = ""
        self.pack_ref_ok = True
        self.pack_version = "0.0.0"
        # ref -> where it was first defined, per namespace (actions and workflows share one).
        self.seen: dict[str, dict[str, Source]] = {}
        # Workflow files named by action yamls (not registered again as standalone workflows).
        self.referenced: set[Path] = set()

    # -- reporting ---------------------------------------------------------------------------

    def error(self, doc: YamlDoc, message: str, *keys: str | int) -> None:
        self.errors.append(doc.error(message, *keys))

    def warn(self, doc: YamlDoc, message: str, *keys: str | int) -> None:
        self.warnings.append(PackWarning(message, doc.path, doc.line(*keys)))

    def unknown_keys(
        self, doc: YamlDoc, body: Mapping[str, Any], known: frozenset[str], *at: str | int
    ) -> None:
        for key in body:
            if key not in known:
                self.warnings.append(
                    PackWarning(f"unknown key {key!r} ignored", doc.path, doc.key_line(*at, key))
                )

    # -- the pack ----------------------------------------------------------------------------

    def load(self) -> PackSpec:
        if not self.dir.is_dir():
            raise PackLoadError(str(self.dir), [PackError("not a directory", path=str(self.dir))])
        manifest = self.dir / "pack.yaml"
        if not manifest.is_file() and (self.dir / "pack.yml").is_file():
            manifest = self.dir / "pack.yml"
        if not manifest.is_file():
            raise PackLoadError(
                str(self.dir),
                [PackError("pack.yaml is missing: every pack needs one", path=str(manifest))],
            )
        doc = load_yaml(manifest, self.dir, self.errors)
        pack = self.pack(doc)
        runtimes = self.each("runtimes", self.runtime)
        triggers = self.each("triggers", self.trigger)
        actions = self.actions()
        sensors = self.each("sensors", self.sensor)
        rules = self.each("rules", self.rule)
        policies = self.each("policies", self.policy)
        if self.errors:
            raise PackLoadError(str(self.dir), self.errors, self.warnings)
        return PackSpec(
            **pack,
            runtimes=tuple(runtimes),
            triggers=tuple(triggers),
            actions=tuple(actions),
            sensors=tuple(sensors),
            rules=tuple(rules),
            policies=tuple(policies),
            warnings=tuple(self.warnings),
        )

    def pack(self, doc: YamlDoc) -> dict[str, Any]:
        body = doc.data
        if not isinstance(body, dict):
            self.error(doc, f"pack.yaml must be a map of keys, not {_kind(body)}")
            body = {}
        meta: dict[str, Any] = {}
        raw_meta = body.get("meta")
        if isinstance(raw_meta, dict):
            meta.update(raw_meta)
        elif raw_meta is not None:
            self.error(doc, "meta must be a map", "meta")
        for key in body:
            if key not in _PACK_KEYS:
                meta.setdefault(key, body[key])
                self.warnings.append(
                    PackWarning(f"unknown key {key!r} kept in meta", doc.path, doc.key_line(key))
                )
        for key in ("author", "email"):
            if body.get(key) is not None:
                meta.setdefault(key, body[key])

        ref = body.get("ref")
        if ref is None:
            self.error(doc, "ref is required (lowercase, e.g. 'my_pack')")
            ref = ""
        elif not isinstance(ref, str) or not PACK_REF.match(ref):
            self.error(
                doc,
                f"invalid pack ref {ref!r}: use lowercase letters, digits, '_' or '-', "
                "starting with a letter, at least two characters",
                "ref",
            )
            ref = str(ref)
        # With a bad pack ref, component refs are still checked, against a stand-in that
        # cannot clash, so the author sees the pack.yaml problem once and not once per file.
        self.pack_ref_ok = bool(PACK_REF.match(ref))
        self.pack_ref = ref if self.pack_ref_ok else "pack"

        version = self.version_text(doc, body, "version")
        if version is None:
            self.error(doc, "version is required (semver, e.g. 1.0.0)")
            version = "0.0.0"
        elif not PACK_VERSION.match(version):
            self.error(doc, f"invalid version {version!r}: expected semver like 1.2.0", "version")
        self.pack_version = version

        name = self.opt_str(doc, body, "name")
        label = self.opt_str(doc, body, "label") or name or ref
        description = self.opt_str(doc, body, "description")
        tags = self.str_list(doc, body, "tags")
        runtime_deps = self.str_list(doc, body, "runtime_deps")
        is_standard = self.opt_bool(doc, body, "is_standard", False)
        system = body.get("system")
        if isinstance(system, bool):
            # The original marks its own packs "system: true"; that is what is_standard means.
            is_standard = is_standard or system
        elif system is not None:
            meta.setdefault("system", system)
        if name:
            meta.setdefault("name", name)

        conf_schema = self.conf_schema(doc, body)
        config = self.config(doc, body, conf_schema)
        dependencies, sources = self.dependencies(doc, body)
        return {
            "path": self.dir,
            "ref": ref,
            "label": label,
            "version": version,
            "description": description,
            "conf_schema": conf_schema,
            "config": config,
            "meta": meta,
            "tags": tuple(tags),
            "runtime_deps": tuple(runtime_deps),
            "dependencies": tuple(dependencies),
            "dependency_sources": tuple(sources),
            "is_standard": is_standard,
            "source": Source(doc.path, 1),
        }

    def conf_schema(self, doc: YamlDoc, body: Mapping[str, Any]) -> dict[str, Any]:
        alternative = self.dir / "config.schema.yaml"
        if not alternative.is_file() and (self.dir / "config.schema.yml").is_file():
            alternative = self.dir / "config.schema.yml"
        if alternative.is_file():
            schema_doc = load_yaml(alternative, self.dir, self.errors)
            if body.get("conf_schema"):
                self.warn(
                    doc,
                    f"both conf_schema and {alternative.name} are given; "
                    f"using conf_schema from {doc.rel}",
                    "conf_schema",
                )
            else:
                return self.schema(schema_doc, schema_doc.data, ())
        return self.schema(doc, body.get("conf_schema"), ("conf_schema",))

    def config(
        self, doc: YamlDoc, body: Mapping[str, Any], conf_schema: dict[str, Any]
    ) -> dict[str, Any]:
        raw = body.get("config")
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.error(doc, f"config must be a map, not {_kind(raw)}", "config")
            raw = {}
        completed, problems = parameter_problems(conf_schema, raw)
        for problem in problems:
            keys = _keys_of(problem.field)
            if problem.message == "is required":
                # The value can still be set through the API (PUT /packs/{ref}); the pack
                # is usable meanwhile, so this is a warning.
                self.warn(
                    doc,
                    f"config.{problem.field} is required but not set in pack.yaml "
                    "(set it through the API)",
                    "config",
                    *keys,
                )
            else:
                self.error(doc, f"config.{problem}", "config", *keys)
        return completed

    def dependencies(
        self, doc: YamlDoc, body: Mapping[str, Any]
    ) -> tuple[list[Dependency], list[Source]]:
        raw = body.get("dependencies")
        if raw is None:
            return [], []
        if isinstance(raw, str | dict):
            raw = [raw] if isinstance(raw, str) else [f"{k}{v or ''}" for k, v in raw.items()]
        if not isinstance(raw, list):
            self.error(doc, "dependencies must be a list like ['core>=1.0']", "dependencies")
            return [], []
        out: list[Dependency] = []
        sources: list[Source] = []
        for index, entry in enumerate(raw):
            if not isinstance(entry, str):
                self.error(
                    doc, f"a dependency must be a string, not {_kind(entry)}", "dependencies", index
                )
                continue
            try:
                dependency = parse_dependency(entry)
            except ValueError as exc:
                self.error(doc, f"invalid dependency {entry!r}: {exc}", "dependencies", index)
                continue
            if dependency.ref == self.pack_ref:
                self.error(doc, "a pack cannot depend on itself", "dependencies", index)
                continue
            out.append(dependency)
            sources.append(Source(doc.path, doc.line("dependencies", index)))
        return out, sources

    # -- generic helpers ---------------------------------------------------------------------

    def each(self, directory: str, build: Callable[[YamlDoc], Any]) -> list[Any]:
        out = []
        for file in self.files(self.dir / directory):
            doc = load_yaml(file, self.dir, self.errors)
            if doc.data is None and not doc.lines:
                continue  # unreadable: already reported
            if not isinstance(doc.data, dict):
                self.error(doc, f"must be a map of keys, not {_kind(doc.data)}")
                continue
            built = build(doc)
            if built is not None:
                out.append(built)
        return out

    @staticmethod
    def files(directory: Path) -> list[Path]:
        if not directory.is_dir():
            return []
        found = [*directory.glob("*.yaml"), *directory.glob("*.yml")]
        return sorted(p for p in found if p.is_file())

    def ref(self, doc: YamlDoc, body: Mapping[str, Any], namespace: str) -> str | None:
        """The component's ref (rule 3), registered in ``namespace`` for duplicate checks."""
        written = body.get("ref")
        key = "ref"
        if written is None:
            written, key = body.get("name"), "name"
        if written is None:
            stem = Path(doc.rel).name.split(".")[0]
            written, key = stem, ""
        if not isinstance(written, str) or not written.strip():
            self.error(doc, f"{key} must be a non-empty string", key)
            return None
        written = written.strip()
        if "." in written and key != "name":
            pack, _, name = written.partition(".")
            if pack != self.pack_ref and self.pack_ref_ok:
                self.error(
                    doc,
                    f"ref {written!r} belongs to pack {pack!r}, not to this pack {self.pack_ref!r}",
                    key,
                )
                return None
            ref = written if self.pack_ref_ok else f"{self.pack_ref}.{name}"
        else:
            name = written
            ref = f"{self.pack_ref}.{name}"
        if not COMPONENT_REF.match(ref) or not NAME.match(name):
            self.error(doc, f"invalid name {name!r}: use letters, digits, '_', '-' or '.'", key)
            return None
        return self.claim(doc, ref, namespace, key)

    def claim(self, doc: YamlDoc, ref: str, namespace: str, *keys: str | int) -> str | None:
        seen = self.seen.setdefault(namespace, {})
        source = Source(doc.path, doc.line(*keys) if keys and keys[0] else 1)
        if ref in seen:
            self.error(
                doc, f"duplicate {namespace} ref {ref!r} (also defined at {seen[ref]})", *keys
            )
            return None
        seen[ref] = source
        return ref

    def opt_str(self, doc: YamlDoc, body: Mapping[str, Any], key: str) -> str | None:
        value = body.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        self.error(doc, f"{key} must be a string, not {_kind(value)}", key)
        return None

    def opt_bool(self, doc: YamlDoc, body: Mapping[str, Any], key: str, default: bool) -> bool:
        value = body.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        self.error(doc, f"{key} must be true or false, not {_kind(value)}", key)
        return default

    def opt_int(
        self, doc: YamlDoc, body: Mapping[str, Any], key: str, *, minimum: int = 0
    ) -> int | None:
        value = body.get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
            return value
        self.error(doc, f"{key} must be an integer >= {minimum}, not {value!r}", key)
        return None

    def str_list(self, doc: YamlDoc, body: Mapping[str, Any], key: str) -> list[str]:
        value = body.get(key)
        if value is None:
            return []
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        self.error(doc, f"{key} must be a list of strings", key)
        return []

    def opt_map(self, doc: YamlDoc, body: Mapping[str, Any], key: str) -> dict[str, Any] | None:
        value = body.get(key)
        if value is None:
            return None
        if isinstance(value, dict):
            return value
        self.error(doc, f"{key} must be a map, not {_kind(value)}", key)
        return None

    def enum(self, doc: YamlDoc, body: Mapping[str, Any], key: str, enum: type[E], default: E) -> E:
        value = body.get(key)
        if value is None:
            return default
        try:
            return enum(str(value).lower())
        except ValueError:
            options = ", ".join(e.value for e in enum)
            self.error(doc, f"invalid {key} {value!r} (one of {options})", key)
            return default

    def version_text(
        self, doc: YamlDoc, body: Mapping[str, Any], key: str, *at: str | int
    ) -> str | None:
        """A version as written: ``3.10`` stays "3.10" although YAML reads the float 3.1.

        ``at`` is the path of ``body`` inside the document (empty for the document itself).
        """
        value = body.get(key)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return doc.raw(*at, key) or str(value)
        if isinstance(value, str):
            return value.strip()
        self.error(doc, f"{key} must be a version string, not {_kind(value)}", *at, key)
        return None

    def schema(self, doc: YamlDoc, value: Any, at: tuple[str | int, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        problems = check_schema(value)
        for problem in problems:
            self.error(doc, f"invalid schema: {problem}", *at, *_keys_of(problem.path))
        return normalize_schema(value) if not problems else {}

    def optional_schema(
        self, doc: YamlDoc, body: Mapping[str, Any], *keys: str
    ) -> dict[str, Any] | None:
        for key in keys:
            if body.get(key) is not None:
                return self.schema(doc, body[key], (key,))
        return None

    def constraint(self, doc: YamlDoc, body: Mapping[str, Any], key: str) -> str | None:
        text = self.version_text(doc, body, key)
        if text is None:
            return None
        try:
            VersionConstraint.parse(text)
        except ValueError as exc:
            self.error(doc, f"invalid {key}: {exc}", key)
            return None
        return text

    def pack_file(self, doc: YamlDoc, base: Path, value: Any, key: str) -> tuple[str, Path] | None:
        """A file named by a component, relative to ``base``; must exist in the pack (rule 4)."""
        if not isinstance(value, str) or not value.strip():
            self.error(doc, f"{key} must be a file name relative to {base.name}/", key)
            return None
        written = value.strip()
        target = (base / written).resolve()
        root = self.dir.resolve()
        if not target.is_relative_to(root):
            self.error(doc, f"{key} {written!r} points outside the pack directory", key)
            return None
        if not target.is_file():
            shown = target.relative_to(root).as_posix()
            self.error(doc, f"{key} {written!r} does not exist (looked for {shown})", key)
            return None
        # The unresolved path keeps messages in the caller's terms (relative stays relative).
        return written, Path(os.path.normpath(base / written))

    def runner(
        self, doc: YamlDoc, body: Mapping[str, Any], default: str | None, entry: str | None
    ) -> RunnerRef | None:
        value = body.get("runner_type")
        source = Source(doc.path, doc.line("runner_type"))
        if value is None:
            inferred = default
            if inferred is None:
                suffix = Path(entry or "").suffix.lower()
                inferred = _BY_EXTENSION.get(suffix, "core.native")
            return RunnerRef(inferred, None, source)
        if not isinstance(value, str) or not value.strip():
            self.error(
                doc, "runner_type must be a runtime name such as shell or python", "runner_type"
            )
            return None
        return RunnerRef(runner_ref(value), value, source)

    # -- runtimes ----------------------------------------------------------------------------

    def runtime(self, doc: YamlDoc) -> RuntimeSpec | None:
        body: dict[str, Any] = doc.data
        self.unknown_keys(doc, body, _RUNTIME_KEYS)
        self.check_pack_key(doc, body)
        written = body.get("ref")
        if written is None and isinstance(body.get("name"), str):
            # Runtime names are display names ("Python"); the ref is the lowercase form.
            written = body["name"].strip().lower().replace(" ", "_")
        ref = self.ref(doc, {"ref": written} if written else {}, "runtime")
        if ref is None:
            return None
        name = self.opt_str(doc, body, "name") or ref.split(".", 1)[1]
        execution_config = self.opt_map(doc, body, "execution_config") or {}
        self.check_execution_config(doc, execution_config, ("execution_config",))
        versions = self.runtime_versions(doc, body)
        installation = self.opt_map(doc, body, "installation")
        return RuntimeSpec(
            ref=ref,
            name=name,
            description=self.opt_str(doc, body, "description"),
            distributions=self.opt_map(doc, body, "distributions") or {},
            installation=installation,
            execution_config=execution_config,
            versions=tuple(versions),
            source=Source(doc.path, doc.line("ref") if "ref" in body else 1),
        )

    def check_execution_config(
        self, doc: YamlDoc, config: Mapping[str, Any], at: tuple[str | int, ...]
    ) -> None:
        interpreter = config.get("interpreter")
        if interpreter is None:
            return
        if not isinstance(interpreter, dict):
            self.error(
                doc, "interpreter must be a map {binary, args, file_extension}", *at, "interpreter"
            )
            return
        binary = interpreter.get("binary")
        if binary is not None and not isinstance(binary, str):
            self.error(doc, "interpreter.binary must be a string", *at, "interpreter", "binary")
        args = interpreter.get("args")
        if args is not None and not (
            isinstance(args, list) and all(isinstance(a, str | int | float) for a in args)
        ):
            self.error(
                doc, "interpreter.args must be a list of strings", *at, "interpreter", "args"
            )

    def runtime_versions(self, doc: YamlDoc, body: Mapping[str, Any]) -> list[RuntimeVersionSpec]:
        raw = body.get("versions")
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(
                doc, "versions must be a list of {version, execution_config, ...}", "versions"
            )
            return []
        out: list[RuntimeVersionSpec] = []
        seen: set[str] = set()
        defaults = 0
        for index, entry in enumerate(raw):
            at: tuple[str | int, ...] = ("versions", index)
            if not isinstance(entry, dict):
                self.error(doc, "a version must be a map {version, execution_config, ...}", *at)
                continue
            for key in entry:
                if key not in _VERSION_KEYS:
                    self.warnings.append(
                        PackWarning(
                            f"unknown key {key!r} ignored", doc.path, doc.key_line(*at, key)
                        )
                    )
            version = self.version_text(doc, entry, "version", *at)
            if version is None:
                self.error(doc, "version is required", *at)
                continue
            try:
                parse_version(version)
            except ValueError as exc:
                self.error(doc, str(exc), *at, "version")
                continue
            if version in seen:
                self.error(doc, f"duplicate runtime version {version!r}", *at, "version")
                continue
            seen.add(version)
            config = entry.get("execution_config") or {}
            if not isinstance(config, dict):
                self.error(doc, "execution_config must be a map", *at, "execution_config")
                config = {}
            self.check_execution_config(doc, config, (*at, "execution_config"))
            distributions = entry.get("distributions") or {}
            if not isinstance(distributions, dict):
                self.error(doc, "distributions must be a map", *at, "distributions")
                distributions = {}
            is_default = entry.get("is_default", False)
            if not isinstance(is_default, bool):
                self.error(doc, "is_default must be true or false", *at, "is_default")
                is_default = False
            defaults += is_default
            meta = entry.get("meta") or {}
            out.append(
                RuntimeVersionSpec(
                    version=version,
                    execution_config=config,
                    distributions=distributions,
                    is_default=is_default,
                    meta=meta if isinstance(meta, dict) else {},
                    source=Source(doc.path, doc.line(*at)),
                )
            )
        if defaults > 1:
            self.error(doc, "more than one version has is_default: true", "versions")
        return out

    # -- triggers ----------------------------------------------------------------------------

    def trigger(self, doc: YamlDoc) -> TriggerSpec | None:
        body: dict[str, Any] = doc.data
        self.unknown_keys(doc, body, _TRIGGER_KEYS)
        self.check_pack_key(doc, body)
        ref = self.ref(doc, body, "trigger")
        if ref is None:
            return None
        kind = body.get("type")
        return TriggerSpec(
            ref=ref,
            label=self.label(doc, body, ref),
            description=self.opt_str(doc, body, "description"),
            enabled=self.opt_bool(doc, body, "enabled", True),
            type=str(kind) if kind is not None else None,
            param_schema=self.optional_schema(doc, body, "parameters"),
            out_schema=self.optional_schema(doc, body, "output", "payload_schema"),
            source=Source(doc.path, 1),
        )

    def label(self, doc: YamlDoc, body: Mapping[str, Any], ref: str) -> str:
        label = self.opt_str(doc, body, "label")
        if label and label.strip():
            return label
        name = body.get("name")
        return name if isinstance(name, str) and name.strip() else ref.split(".", 1)[1]

    # -- actions and workflows ---------------------------------------------------------------

    def actions(self) -> list[ActionSpec]:
        actions_dir = self.dir / "actions"
        out: list[ActionSpec] = list(self.each("actions", self.action))
        standalone = [
            p
            for pattern in ("*.workflow.yaml", "*.workflow.yml")
            for p in (actions_dir / "workflows").glob(pattern)
        ]
        standalone += self.files(self.dir / "workflows")
        for file in sorted(set(standalone)):
            if file.resolve() in self.referenced or not file.is_file():
                continue
            action = self.standalone_workflow(file)
            if action is not None:
                out.append(action)
        for file in self.files(actions_dir / "workflows"):
            if file.resolve() not in self.referenced and file not in standalone:
                self.warnings.append(
                    PackWarning(
                        "not registered: name a standalone workflow *.workflow.yaml, or name "
                        "this file in an action yaml (workflow_file)",
                        str(file),
                    )
                )
        return out

    def action(self, doc: YamlDoc) -> ActionSpec | None:
        body: dict[str, Any] = doc.data
        self.unknown_keys(doc, body, _ACTION_KEYS)
        self.check_pack_key(doc, body)
        ref = self.ref(doc, body, "action")
        actions_dir = self.dir / "actions"
        entry_key = "entry_point" if "entry_point" in body else "entrypoint"
        raw_runner = body.get("runner_type")
        is_workflow = "workflow_file" in body or (
            isinstance(raw_runner, str) and raw_runner.strip().lower() in WORKFLOW_RUNNERS
        )
        param_schema = self.optional_schema(doc, body, "parameters")
        out_schema = self.optional_schema(doc, body, "output_schema", "output")
        label = self.label(doc, body, ref or "x.x")
        description = self.opt_str(doc, body, "description")
        enabled = self.opt_bool(doc, body, "enabled", True)
        tags = tuple(self.str_list(doc, body, "tags"))
        timeout = self.opt_int(doc, body, "timeout", minimum=1)
        if is_workflow:
            key = "workflow_file" if "workflow_file" in body else entry_key
            found = self.pack_file(doc, actions_dir, body.get(key), key)
            if found is not None:
                # Claimed even if this action fails, so the file is not loaded a second time
                # as a standalone workflow (one problem, reported once).
                self.referenced.add(found[1].resolve())
            if ref is None or found is None:
                return None
            written, file = found
            workflow = self.workflow(
                file,
                ref=ref,
                entry=written,
                label=label,
                description=description,
                param_schema=param_schema,
                out_schema=out_schema,
                tags=tags,
                enabled=enabled,
            )
            if workflow is None:
                return None
            return ActionSpec(
                ref=ref,
                label=label,
                description=description,
                enabled=enabled,
                runner=None,
                entrypoint=written,
                param_schema=workflow.param_schema,
                out_schema=out_schema,
                timeout=timeout,
                tags=tags,
                workflow=workflow,
                source=Source(doc.path, 1),
            )
        if entry_key not in body:
            self.error(doc, "entry_point is required (the script to run, relative to actions/)")
            found = None
        else:
            found = self.pack_file(doc, actions_dir, body[entry_key], entry_key)
        runner = self.runner(doc, body, None, found[0] if found else None)
        native = runner is not None and runner.value == "core.native"
        if found is not None and native and not os.access(found[1], os.X_OK):
            self.warn(
                doc,
                f"{found[0]} is not executable (native actions run the file directly)",
                entry_key,
            )
        delivery = self.enum(
            doc, body, "parameter_delivery", ParameterDelivery, ParameterDelivery.STDIN
        )
        fmt = self.enum(doc, body, "parameter_format", ParameterFormat, ParameterFormat.JSON)
        output_format = self.enum(doc, body, "output_format", OutputFormat, OutputFormat.TEXT)
        constraint = self.constraint(doc, body, "runtime_version")
        if ref is None or found is None or runner is None:
            return None
        return ActionSpec(
            ref=ref,
            label=label,
            description=description,
            enabled=enabled,
            runner=runner,
            entrypoint=found[0],
            parameter_delivery=delivery,
            parameter_format=fmt,
            output_format=output_format,
            param_schema=param_schema,
            out_schema=out_schema,
            timeout=timeout,
            runtime_version_constraint=constraint,
            tags=tags,
            source=Source(doc.path, 1),
        )

    def standalone_workflow(self, file: Path) -> ActionSpec | None:
        """A workflow file nobody's action yaml names: it is its own action."""
        rel_to_actions = os.path.relpath(file, self.dir / "actions")
        workflow = self.workflow(file, ref=None, entry=Path(rel_to_actions).as_posix())
        if workflow is None:
            return None
        return ActionSpec(
            ref=workflow.ref,
            label=workflow.label,
            description=workflow.description,
            enabled=workflow.enabled,
            runner=None,
            entrypoint=workflow.file,
            param_schema=workflow.param_schema,
            out_schema=workflow.out_schema,
            tags=workflow.tags,
            workflow=workflow,
            source=workflow.source,
        )

    def workflow(
        self,
        file: Path,
        *,
        ref: str | None,
        entry: str,
        label: str | None = None,
        description: str | None = None,
        param_schema: dict[str, Any] | None = None,
        out_schema: dict[str, Any] | None = None,
        tags: tuple[str, ...] = (),
        enabled: bool = True,
    ) -> WorkflowSpec | None:
        """Load a workflow file. ``ref`` is set when an action yaml names the file."""
        doc = load_yaml(file, self.dir, self.errors)
        if doc.data is None:
            if doc.lines:
                self.error(doc, "the workflow file is empty")
            return None
        if not isinstance(doc.data, dict):
            self.error(doc, f"a workflow must be a map, not {_kind(doc.data)}")
            return None
        document = doc.data
        written_ref = document.get("ref")
        if ref is None:
            # A standalone file: its own ref (or the file stem) is the workflow's ref.
            body = {"ref": written_ref} if written_ref is not None else {}
            claimed = self.ref(doc, body, "action")
            if claimed is None:
                return None
            ref = claimed
        elif written_ref is not None and written_ref != ref:
            self.warn(
                doc,
                f"ref {written_ref!r} ignored: the action yaml names this workflow {ref!r}",
                "ref",
            )
        try:
            parsed = parse_workflow({**document, "ref": ref}, ref=ref)
        except WorkflowDefinitionError as exc:
            for problem in exc.problems:
                keys = _workflow_keys(problem.path)
                self.errors.append(
                    PackError(
                        f"{problem.path}: {problem.message}" if problem.path else problem.message,
                        path=doc.path,
                        line=doc.line(*keys),
                    )
                )
            return None
        for problem in parsed.warnings:
            keys = _workflow_keys(problem.path)
            self.warnings.append(PackWarning(str(problem), doc.path, doc.line(*keys)))
        if param_schema is None:
            param_schema = self.schema(doc, document.get("parameters"), ("parameters",)) or None
        task_actions = tuple(
            t.action for t in parsed.tasks if t.action is not None and "{{" not in t.action
        )
        return WorkflowSpec(
            ref=ref,
            label=label or parsed.label or ref.split(".", 1)[1],
            description=description if description is not None else parsed.description,
            version=parsed.version or self.pack_version,
            param_schema=param_schema,
            out_schema=out_schema,
            definition=document,
            tags=tags or parsed.tags,
            enabled=enabled,
            file=entry,
            task_actions=task_actions,
            source=Source(doc.path, 1),
        )

    def check_pack_key(self, doc: YamlDoc, body: Mapping[str, Any]) -> None:
        pack = body.get("pack")
        if pack is not None and pack != self.pack_ref:
            self.warn(
                doc, f"pack {pack!r} ignored: this file belongs to pack {self.pack_ref!r}", "pack"
            )

    # -- sensors -----------------------------------------------------------------------------

    def sensor(self, doc: YamlDoc) -> SensorSpec | None:
        body: dict[str, Any] = doc.data
        self.unknown_keys(doc, body, _SENSOR_KEYS)
        self.check_pack_key(doc, body)
        ref = self.ref(doc, body, "sensor")
        entry_key = "entry_point" if "entry_point" in body else "entrypoint"
        if entry_key not in body:
            self.error(doc, "entry_point is required (the program to run, relative to sensors/)")
            found = None
        else:
            found = self.pack_file(doc, self.dir / "sensors", body[entry_key], entry_key)
        # Sensors default to native (a compiled program), as in the original.
        runner = self.runner(doc, body, "core.native", None)
        triggers = self.trigger_types(doc, body)
        poll_interval = self.opt_int(doc, body, "poll_interval", minimum=1)
        constraint = self.constraint(doc, body, "runtime_version")
        config = self.opt_map(doc, body, "config") or {}
        if ref is None or found is None or runner is None:
            return None
        return SensorSpec(
            ref=ref,
            label=self.label(doc, body, ref),
            description=self.opt_str(doc, body, "description"),
            enabled=self.opt_bool(doc, body, "enabled", True),
            runner=runner,
            entrypoint=found[0],
            trigger_types=tuple(triggers),
            param_schema=self.optional_schema(doc, body, "parameters"),
            config=config,
            poll_interval=poll_interval,
            runtime_version_constraint=constraint,
            source=Source(doc.path, 1),
        )

    def trigger_types(self, doc: YamlDoc, body: Mapping[str, Any]) -> list[str]:
        raw = body.get("trigger_types")
        if raw is None:
            return []
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            self.error(doc, "trigger_types must be a list of trigger refs", "trigger_types")
            return []
        out: list[str] = []
        for index, entry in enumerate(raw):
            written = entry
            if isinstance(entry, dict):
                written = entry.get("ref") or entry.get("name")
            ref = self.qualify(doc, written, ("trigger_types", index))
            if ref is not None:
                out.append(ref)
        return out

    def qualify(self, doc: YamlDoc, written: Any, at: tuple[str | int, ...]) -> str | None:
        """A ref to another component: ``pack.name``, or ``name`` meaning this pack's."""
        if not isinstance(written, str) or not written.strip():
            self.error(doc, f"expected a ref like 'core.echo', not {_kind(written)}", *at)
            return None
        ref = written.strip()
        if "." not in ref:
            ref = f"{self.pack_ref}.{ref}"
        if not COMPONENT_REF.match(ref):
            self.error(doc, f"invalid ref {written!r}: expected '<pack>.<name>'", *at)
            return None
        return ref

    # -- rules -------------------------------------------------------------------------------

    def rule(self, doc: YamlDoc) -> RuleSpec | None:
        body: dict[str, Any] = doc.data
        self.unknown_keys(doc, body, _RULE_KEYS)
        self.check_pack_key(doc, body)
        ref = self.ref(doc, body, "rule")
        trigger_ref, trigger_params = self.target(doc, body, "trigger", ("type", "ref"))
        action_ref, action_params = self.target(doc, body, "action", ("ref",))
        for key, value in (("trigger_params", trigger_params), ("action_params", action_params)):
            explicit = self.opt_map(doc, body, key)
            if explicit is not None:
                value.update(explicit)
        conditions = self.conditions(doc, body)
        if ref is None or trigger_ref is None or action_ref is None:
            return None
        return RuleSpec(
            ref=ref,
            label=self.label(doc, body, ref),
            description=self.opt_str(doc, body, "description"),
            trigger_ref=trigger_ref,
            action_ref=action_ref,
            conditions=conditions,
            action_params=action_params,
            trigger_params=trigger_params,
            enabled=self.opt_bool(doc, body, "enabled", True),
            source=Source(doc.path, 1),
        )

    def target(
        self, doc: YamlDoc, body: Mapping[str, Any], what: str, ref_keys: Iterable[str]
    ) -> tuple[str | None, dict[str, Any]]:
        """A rule's trigger or action: ``<what>_ref: x.y``, ``<what>: x.y`` or a map
        ``{ref|type: x.y, parameters: {...}}`` (the original's nested form)."""
        key = f"{what}_ref" if f"{what}_ref" in body else what
        value = body.get(key)
        if value is None:
            self.error(doc, f"{what}_ref is required (the {what} ref, e.g. 'core.echo')")
            return None, {}
        params: dict[str, Any] = {}
        at: tuple[str | int, ...] = (key,)
        if isinstance(value, dict):
            nested_key = next((k for k in ref_keys if k in value), None)
            raw_params = value.get("parameters")
            if isinstance(raw_params, dict):
                params.update(raw_params)
            elif raw_params is not None:
                self.error(doc, f"{what}.parameters must be a map", key, "parameters")
            if nested_key is None:
                self.error(doc, f"{what} must name a ref ({' or '.join(ref_keys)})", key)
                return None, params
            value = value[nested_key]
            at = (key, nested_key)
        return self.qualify(doc, value, at), params

    def conditions(self, doc: YamlDoc, body: Mapping[str, Any]) -> Any:
        if "conditions" not in body and body.get("criteria"):
            self.warn(doc, "criteria is not supported; use conditions", "criteria")
        value = body.get("conditions")
        if value is None:
            return {}
        if isinstance(value, dict):
            if value and "expression" not in value:
                self.error(
                    doc,
                    "conditions must be {expression: ...} or a list of {field, operator, value}",
                    "conditions",
                )
            elif value and not isinstance(value.get("expression"), str):
                self.error(
                    doc, "conditions.expression must be a string", "conditions", "expression"
                )
            return value
        if not isinstance(value, list):
            self.error(doc, f"conditions must be a map or a list, not {_kind(value)}", "conditions")
            return {}
        for index, item in enumerate(value):
            at = ("conditions", index)
            if not isinstance(item, dict):
                self.error(doc, "a condition must be {field, operator, value}", *at)
                continue
            if not isinstance(item.get("field"), str):
                self.error(doc, "a condition needs a field (e.g. payload.status)", *at)
            operator = item.get("operator")
            if not isinstance(operator, str) or operator.lower() not in RULE_OPERATORS:
                self.error(
                    doc,
                    f"unknown operator {operator!r} (one of {', '.join(sorted(RULE_OPERATORS))})",
                    *at,
                    "operator",
                )
        return value

    # -- policies ----------------------------------------------------------------------------

    def policy(self, doc: YamlDoc) -> PolicySpec | None:
        body: dict[str, Any] = doc.data
        self.unknown_keys(doc, body, _POLICY_KEYS)
        self.check_pack_key(doc, body)
        ref = self.ref(doc, body, "policy")
        key = next((k for k in ("action_ref", "action", "resource_ref") if k in body), None)
        action_ref = None
        if key is None:
            self.error(doc, "action_ref is required (the action the policy limits)")
        else:
            action_ref = self.qualify(doc, body[key], (key,))
        # The original's form keeps threshold and method under `parameters`, with the
        # group-by parameter names in `attributes`; the flat form has them at the top.
        params = body.get("parameters")
        nested = params if isinstance(params, dict) else {}
        threshold = body.get("threshold", nested.get("threshold"))
        at = ("threshold",) if "threshold" in body else ("parameters", "threshold")
        if not (isinstance(threshold, int) and not isinstance(threshold, bool) and threshold >= 0):
            self.error(doc, f"threshold must be an integer >= 0, not {threshold!r}", *at)
            threshold = None
        method_value = body.get("method", nested.get("action"))
        method = PolicyMethod.ENQUEUE
        if method_value is not None:
            text = str(method_value).lower()
            if text == "delay":
                text = "enqueue"  # the original's name for queueing
            try:
                method = PolicyMethod(text)
            except ValueError:
                self.error(
                    doc,
                    f"invalid method {method_value!r} (enqueue or cancel)",
                    "method" if "method" in body else "parameters",
                )
        group_by: Any = params if isinstance(params, list) else nested.get("attributes", [])
        if not (isinstance(group_by, list) and all(isinstance(p, str) for p in group_by)):
            self.error(doc, "parameters must be a list of parameter names", "parameters")
            group_by = []
        name = body.get("name")
        if ref is None or action_ref is None or threshold is None:
            return None
        return PolicySpec(
            ref=ref,
            name=name if isinstance(name, str) else ref.split(".", 1)[1],
            description=self.opt_str(doc, body, "description"),
            action_ref=action_ref,
            parameters=tuple(group_by),
            method=method,
            threshold=threshold,
            tags=tuple(self.str_list(doc, body, "tags")),
            source=Source(doc.path, 1),
        )


def _keys_of(dotted: str) -> tuple[str | int, ...]:
    """``servers[0].port`` -> ``("servers", 0, "port")`` for line lookups."""
    out: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", dotted):
        out.append(int(part[1:-1]) if part.startswith("[") else part)
    return tuple(out)


def _workflow_keys(path: str) -> tuple[str | int, ...]:
    # Workflow problem paths look like ``tasks[2].next[0].do[1]`` or ``tasks.build.action``.
    return _keys_of(path)
