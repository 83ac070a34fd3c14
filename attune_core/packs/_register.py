"""Registration: a :class:`PackSpec` written into the database, all or nothing.

Rules of this file:

1. One pack, one transaction. Every check that needs the database (dependencies, runners) runs
   inside it before the first write; any problem raises :class:`PackLoadError` and the
   transaction rolls back, so a broken pack changes nothing and the previous version stays.
2. Dependency order: pack, runtimes (with versions), triggers, actions (workflows first, then
   their companion actions), sensors, rules, policies. Each later kind resolves the ids of the
   earlier ones.
3. Idempotent. A component is found by ref and updated in place (its id never changes; only
   changed columns are written). Components of the pack that the files no longer declare are
   deleted, except ad-hoc ones created through the API (``is_adhoc``), which the files never
   owned.
4. The files are the truth for what they declare. State the files cannot express is kept:
   a trigger's webhook settings, a runtime version's ``available``/``verified_at`` (set by
   workers), and pack config keys set through the API that the files do not define.
5. Cross-pack refs are allowed. A rule, sensor or policy whose target exists gets its id; one
   whose target does not exist yet keeps the ref (a warning), and gets the id when the target's
   pack is registered (the backfill at the end).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import attrs

from attune_core.errors import PackError
from attune_core.model import (
    Action,
    Pack,
    Policy,
    Rule,
    Runtime,
    RuntimeVersion,
    Sensor,
    Trigger,
    WorkflowDefinition,
)
from attune_core.packs._errors import PackLoadError
from attune_core.packs._loader import load_pack
from attune_core.packs._spec import PackSpec, PackWarning, RunnerRef, Source
from attune_core.packs._versions import parse_version
from attune_core.schema import parameter_problems
from attune_core.storage import Store, UnitOfWork

__all__ = ["RegistrationResult", "register_pack", "register_packs", "unregister_pack"]

log = logging.getLogger(__name__)

E = TypeVar("E")

# Columns written by the system, never by pack files (rule 4).
_TRIGGER_KEEP = ("webhook_enabled", "webhook_key", "webhook_config")
_VERSION_KEEP = ("available", "verified_at")
_KINDS = (
    "runtimes",
    "runtime_versions",
    "triggers",
    "workflows",
    "actions",
    "sensors",
    "rules",
    "policies",
)


@attrs.frozen
class RegistrationResult:
    """What a registration did.

    Attributes:
        pack: The pack row as stored.
        created: True when the pack was new, false when an existing one was updated.
        counts: Components now registered from the files, per kind (``runtimes``,
            ``runtime_versions``, ``triggers``, ``workflows``, ``actions`` (workflow
            companions included), ``sensors``, ``rules``, ``policies``).
        removed: Components deleted because the files no longer declare them, per kind.
        warnings: Harmless findings, from loading and from registration.
    """

    pack: Pack
    created: bool
    counts: Mapping[str, int]
    removed: Mapping[str, int]
    warnings: tuple[PackWarning, ...] = ()


async def register_pack(
    store: Store, path_or_spec: str | os.PathLike[str] | PackSpec, *, force: bool = False
) -> RegistrationResult:
    """Register (or re-register) a pack in one transaction.

    Args:
        store: The database.
        path_or_spec: A pack directory, or a spec already loaded with
            :func:`~attune_core.packs.load_pack`.
        force: Register even when ``dependencies`` are missing or at the wrong version; the
            failed checks become warnings.

    Returns:
        Counts per component kind and the warnings.

    Raises:
        PackLoadError: The pack is invalid (every problem, each with file and line); nothing
            was changed.
    """
    spec = path_or_spec if isinstance(path_or_spec, PackSpec) else load_pack(path_or_spec)
    async with store.transaction() as uow:
        result = await _Registration(uow, spec, force=force).run()
    log.info(
        "registered pack %s %s",
        spec.ref,
        spec.version,
        extra={"pack": spec.ref, "version": spec.version, "counts": dict(result.counts)},
    )
    return result


async def register_packs(
    store: Store, paths: Iterable[str | os.PathLike[str]], *, force: bool = False
) -> dict[str, RegistrationResult | PackError]:
    """Register several packs, each in its own transaction, dependencies first.

    Packs of the batch that depend on each other are registered in dependency order (a cycle
    is broken in the order given). A pack that fails does not stop the others; a pack whose
    dependency failed then fails its own dependency check (unless ``force``).

    Returns:
        For each path as given (``str(path)``), its result or the error that rejected it.
    """
    outcomes: dict[str, RegistrationResult | PackError] = {}
    specs: dict[str, PackSpec] = {}
    for path in paths:
        try:
            specs[str(path)] = load_pack(path)
        except PackError as exc:
            outcomes[str(path)] = exc
    by_ref = {spec.ref: key for key, spec in specs.items()}
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(key: str) -> None:
        if key in ordered or key in visiting:
            return
        visiting.add(key)
        for dependency in specs[key].dependencies:
            if dependency.ref in by_ref:
                visit(by_ref[dependency.ref])
        visiting.discard(key)
        ordered.append(key)

    for key in specs:
        visit(key)
    for key in ordered:
        try:
            outcomes[key] = await register_pack(store, specs[key], force=force)
        except PackError as exc:
            outcomes[key] = exc
    return outcomes


async def unregister_pack(store: Store, ref: str) -> Pack:
    """Delete a pack and every component it owns (the database cascades).

    Rules of other packs that used its actions or triggers keep their refs, with the ids
    cleared; registering the pack again links them back.

    Returns:
        The deleted pack.

    Raises:
        NotFound: No pack has this ref.
    """
    async with store.transaction() as uow:
        pack = await uow.packs.get_by_ref(ref)
        assert pack.id is not None
        await uow.packs.delete(pack.id)
    log.info("unregistered pack %s", ref, extra={"pack": ref})
    return pack


def _fields(entity: Any) -> dict[str, Any]:
    values = attrs.asdict(entity, recurse=False)
    for stamp in ("id", "created", "updated"):
        values.pop(stamp, None)
    return values


class _Registration:
    """One registration of one pack inside one unit of work."""

    def __init__(self, uow: UnitOfWork, spec: PackSpec, *, force: bool) -> None:
        self.uow = uow
        self.spec = spec
        self.force = force
        self.errors: list[PackError] = []
        self.warnings: list[PackWarning] = list(spec.warnings)
        self.counts: dict[str, int] = dict.fromkeys(_KINDS, 0)
        self.removed: dict[str, int] = dict.fromkeys(_KINDS, 0)
        self.runner_refs: dict[int, str] = {}  # id(RunnerRef) -> resolved runtime ref

    def warn(self, message: str, source: Source) -> None:
        self.warnings.append(PackWarning(message, source.path, source.line))

    def fail(self, message: str, source: Source) -> None:
        self.errors.append(PackError(message, path=source.path, line=source.line))

    async def run(self) -> RegistrationResult:
        await self.check_dependencies()
        await self.resolve_runners()
        if self.errors:
            raise PackLoadError(str(self.spec.path), self.errors, self.warnings)
        pack, created = await self.pack()
        assert pack.id is not None
        runtime_ids = await self.runtimes(pack.id)
        trigger_ids = await self.triggers(pack.id)
        action_ids = await self.actions(pack.id, runtime_ids)
        await self.sensors(pack.id, runtime_ids, trigger_ids)
        await self.rules(pack.id)
        await self.policies(pack.id)
        await self.backfill(runtime_ids, trigger_ids, action_ids)
        await self.check_workflow_tasks()
        return RegistrationResult(
            pack=pack,
            created=created,
            counts=dict(self.counts),
            removed=dict(self.removed),
            warnings=tuple(self.warnings),
        )

    # -- checks before writing ---------------------------------------------------------------

    async def check_dependencies(self) -> None:
        for dependency, source in zip(
            self.spec.dependencies, self.spec.dependency_sources, strict=True
        ):
            found = await self.uow.packs.find_by_ref(dependency.ref)
            problem = None
            if found is None:
                problem = (
                    f"dependency {dependency.text!r}: pack {dependency.ref!r} is not registered"
                )
            elif dependency.constraint is not None and not dependency.constraint.matches(
                found.version
            ):
                problem = (
                    f"dependency {dependency.text!r}: pack {dependency.ref!r} is at version "
                    f"{found.version}, which does not satisfy {dependency.constraint}"
                )
            if problem is None:
                continue
            if self.force:
                self.warn(f"{problem} (registered anyway: force)", source)
            else:
                self.fail(f"{problem}; register it first or use force", source)

    async def resolve_runners(self) -> None:
        """Map every action's and sensor's runner to a runtime ref (rule 1: before writes)."""
        own = {r.ref: r for r in self.spec.runtimes}
        refs: set[str] = set(own)
        names: dict[str, list[str]] = {}
        for runtime in own.values():
            names.setdefault(runtime.name.lower(), []).append(runtime.ref)
        for row in await self.uow.runtimes.list():
            if row.pack_ref == self.spec.ref and row.ref not in own:
                continue  # removed by this version of the pack
            if row.ref not in refs:
                refs.add(row.ref)
                names.setdefault(row.name.lower(), []).append(row.ref)
        runners: list[RunnerRef] = [a.runner for a in self.spec.actions if a.runner is not None]
        runners += [s.runner for s in self.spec.sensors]
        for runner in runners:
            resolved = self.resolve(runner.value, refs, names)
            if resolved is not None:
                self.runner_refs[id(runner)] = resolved
                continue
            known = ", ".join(sorted(refs)) or "none"
            if runner.written is None:
                message = (
                    f"no runner_type given, and the default runtime {runner.value!r} is not "
                    f"registered (register the core pack first); known runtimes: {known}"
                )
            elif runner.value != runner.written:
                message = (
                    f"runner_type {runner.written!r} runs in runtime {runner.value!r}, which is "
                    f"not registered (register the core pack first); known runtimes: {known}"
                )
            else:
                message = (
                    f"unknown runner_type {runner.written!r}: no runtime with that ref or name "
                    f"is registered or defined by this pack (known: {known})"
                )
            self.fail(message, runner.source)

    def resolve(self, value: str, refs: set[str], names: Mapping[str, list[str]]) -> str | None:
        if value in refs:
            return value
        lowered = value.lower()
        if "." not in value:
            for candidate in (f"{self.spec.ref}.{lowered}", f"core.{lowered}"):
                if candidate in refs:
                    return candidate
        matches = names.get(lowered, [])
        if len(matches) == 1:
            return matches[0]
        for preferred in (f"{self.spec.ref}.", "core."):
            for match in matches:
                if match.startswith(preferred):
                    return match
        return None

    # -- writes ------------------------------------------------------------------------------

    async def upsert(self, repo: Any, entity: E, keep: Iterable[str] = ()) -> E:
        """Create ``entity`` or update the row with its ref in place (changed columns only)."""
        old: Any = await repo.find_by_ref(getattr(entity, "ref"))  # noqa: B009
        if old is None:
            created: E = await repo.create(entity)
            return created
        values = _fields(entity)
        for name in keep:
            values.pop(name, None)
        changed = {k: v for k, v in values.items() if getattr(old, k) != v}
        if not changed:
            return old  # type: ignore[no-any-return]
        return await repo.update(old.id, **changed)  # type: ignore[no-any-return]

    async def remove_stale(self, repo: Any, kind: str, keep: set[str]) -> None:
        for row in await repo.list(pack_ref=self.spec.ref):
            if row.ref in keep or getattr(row, "is_adhoc", False):
                continue
            await repo.delete(row.id)
            self.removed[kind] += 1

    async def pack(self) -> tuple[Pack, bool]:
        spec = self.spec
        existing = await self.uow.packs.find_by_ref(spec.ref)
        config = dict(spec.config)
        if existing is not None:
            # Rule 4: keys set through the API that the files do not define survive.
            kept = {k: v for k, v in existing.config.items() if k not in config}
            if kept:
                _, problems = parameter_problems(spec.conf_schema, {**kept, **config})
                bad = {p.field.split(".")[0].split("[")[0] for p in problems}
                for name in sorted(bad & set(kept)):
                    self.warn(
                        f"config.{name} (set through the API) no longer satisfies "
                        "conf_schema and was dropped",
                        spec.source,
                    )
                    kept.pop(name)
                config = {**kept, **config}
        pack = Pack(
            ref=spec.ref,
            label=spec.label,
            description=spec.description,
            version=spec.version,
            conf_schema=spec.conf_schema,
            config=config,
            meta=spec.meta,
            tags=list(spec.tags),
            runtime_deps=list(spec.runtime_deps),
            dependencies=[d.text for d in spec.dependencies],
            is_standard=spec.is_standard,
        )
        stored = await self.upsert(self.uow.packs, pack)
        return stored, existing is None

    async def runtimes(self, pack_id: int) -> dict[str, int]:
        ids: dict[str, int] = {}
        for spec in self.spec.runtimes:
            runtime = await self.upsert(
                self.uow.runtimes,
                Runtime(
                    ref=spec.ref,
                    pack=pack_id,
                    pack_ref=self.spec.ref,
                    name=spec.name,
                    description=spec.description,
                    distributions=spec.distributions,
                    installation=spec.installation,
                    execution_config=spec.execution_config,
                ),
            )
            assert runtime.id is not None
            ids[spec.ref] = runtime.id
            self.counts["runtimes"] += 1
            await self.runtime_versions(runtime, spec.versions)
        await self.remove_stale(self.uow.runtimes, "runtimes", set(ids))
        return ids

    async def runtime_versions(self, runtime: Runtime, versions: Iterable[Any]) -> None:
        assert runtime.id is not None
        repo = self.uow.runtime_versions
        existing = {v.version: v for v in await repo.list_for_runtime(runtime.id)}
        declared: set[str] = set()
        for spec in versions:
            parsed = parse_version(spec.version)
            entity = RuntimeVersion(
                runtime=runtime.id,
                runtime_ref=runtime.ref,
                version=spec.version,
                version_major=parsed.major,
                version_minor=parsed.minor,
                version_patch=parsed.patch,
                execution_config=spec.execution_config,
                distributions=spec.distributions,
                is_default=spec.is_default,
                meta=spec.meta,
            )
            declared.add(spec.version)
            self.counts["runtime_versions"] += 1
            old = existing.get(spec.version)
            if old is None:
                await repo.create(entity)
                continue
            values = _fields(entity)
            for name in _VERSION_KEEP:
                values.pop(name)
            changed = {k: v for k, v in values.items() if getattr(old, k) != v}
            if changed:
                assert old.id is not None
                await repo.update(old.id, **changed)
        for version, old in existing.items():
            if version not in declared:
                assert old.id is not None
                await repo.delete(old.id)
                self.removed["runtime_versions"] += 1

    async def triggers(self, pack_id: int) -> dict[str, int]:
        ids: dict[str, int] = {}
        for spec in self.spec.triggers:
            trigger = await self.upsert(
                self.uow.triggers,
                Trigger(
                    ref=spec.ref,
                    pack=pack_id,
                    pack_ref=self.spec.ref,
                    label=spec.label,
                    description=spec.description,
                    enabled=spec.enabled,
                    param_schema=spec.param_schema,
                    out_schema=spec.out_schema,
                ),
                keep=_TRIGGER_KEEP,
            )
            assert trigger.id is not None
            ids[spec.ref] = trigger.id
            self.counts["triggers"] += 1
        await self.remove_stale(self.uow.triggers, "triggers", set(ids))
        return ids

    async def runtime_id(self, runner: RunnerRef | None, own: Mapping[str, int]) -> int | None:
        if runner is None:
            return None
        ref = self.runner_refs[id(runner)]
        if ref in own:
            return own[ref]
        runtime = await self.uow.runtimes.find_by_ref(ref)
        return runtime.id if runtime is not None else None

    async def actions(self, pack_id: int, runtime_ids: Mapping[str, int]) -> dict[str, int]:
        ids: dict[str, int] = {}
        workflow_refs: set[str] = set()
        for spec in self.spec.actions:
            workflow_id = None
            if spec.workflow is not None:
                wf = spec.workflow
                definition = await self.upsert(
                    self.uow.workflow_definitions,
                    WorkflowDefinition(
                        ref=wf.ref,
                        pack=pack_id,
                        pack_ref=self.spec.ref,
                        label=wf.label,
                        description=wf.description,
                        version=wf.version,
                        param_schema=wf.param_schema,
                        out_schema=wf.out_schema,
                        definition=wf.definition,
                        tags=list(wf.tags),
                        enabled=wf.enabled,
                    ),
                )
                workflow_id = definition.id
                workflow_refs.add(wf.ref)
                self.counts["workflows"] += 1
            action = await self.upsert(
                self.uow.actions,
                Action(
                    ref=spec.ref,
                    pack=pack_id,
                    pack_ref=self.spec.ref,
                    label=spec.label,
                    description=spec.description,
                    entrypoint=spec.entrypoint,
                    runtime=await self.runtime_id(spec.runner, runtime_ids),
                    runtime_version_constraint=spec.runtime_version_constraint,
                    param_schema=spec.param_schema,
                    out_schema=spec.out_schema,
                    workflow_def=workflow_id,
                    is_adhoc=False,
                    enabled=spec.enabled,
                    parameter_delivery=spec.parameter_delivery,
                    parameter_format=spec.parameter_format,
                    output_format=spec.output_format,
                    timeout=spec.timeout,
                    tags=list(spec.tags),
                ),
            )
            assert action.id is not None
            ids[spec.ref] = action.id
            self.counts["actions"] += 1
        # Actions first: a stale workflow definition cascades to its companion action.
        await self.remove_stale(self.uow.actions, "actions", set(ids))
        await self.remove_stale(self.uow.workflow_definitions, "workflows", workflow_refs)
        return ids

    async def sensors(
        self, pack_id: int, runtime_ids: Mapping[str, int], trigger_ids: Mapping[str, int]
    ) -> None:
        refs: set[str] = set()
        for spec in self.spec.sensors:
            first = spec.trigger_types[0] if spec.trigger_types else None
            trigger_id = await self.trigger_id(first, trigger_ids) if first else None
            missing = [
                t for t in spec.trigger_types if await self.trigger_id(t, trigger_ids) is None
            ]
            for ref in missing:
                self.warn(
                    f"sensor {spec.ref} emits trigger {ref!r}, which is not registered", spec.source
                )
            await self.upsert(
                self.uow.sensors,
                Sensor(
                    ref=spec.ref,
                    pack=pack_id,
                    pack_ref=self.spec.ref,
                    label=spec.label,
                    description=spec.description,
                    entrypoint=spec.entrypoint,
                    runtime=await self.runtime_id(spec.runner, runtime_ids),
                    runtime_ref=self.runner_refs[id(spec.runner)],
                    runtime_version_constraint=spec.runtime_version_constraint,
                    trigger=trigger_id,
                    trigger_ref=first,
                    trigger_types=list(spec.trigger_types),
                    enabled=spec.enabled,
                    is_adhoc=False,
                    param_schema=spec.param_schema,
                    config=spec.config,
                    poll_interval=spec.poll_interval,
                ),
            )
            refs.add(spec.ref)
            self.counts["sensors"] += 1
        await self.remove_stale(self.uow.sensors, "sensors", refs)

    async def trigger_id(self, ref: str, own: Mapping[str, int]) -> int | None:
        if ref in own:
            return own[ref]
        found = await self.uow.triggers.find_by_ref(ref)
        return found.id if found is not None else None

    async def action_id(self, ref: str) -> int | None:
        found = await self.uow.actions.find_by_ref(ref)
        return found.id if found is not None else None

    async def rules(self, pack_id: int) -> None:
        refs: set[str] = set()
        for spec in self.spec.rules:
            action_id = await self.action_id(spec.action_ref)
            trigger_id = await self.trigger_id(spec.trigger_ref, {})
            if action_id is None:
                self.warn(
                    f"rule {spec.ref} uses action {spec.action_ref!r}, which is not "
                    "registered yet; it is linked when it is",
                    spec.source,
                )
            if trigger_id is None:
                self.warn(
                    f"rule {spec.ref} uses trigger {spec.trigger_ref!r}, which is not "
                    "registered yet; it is linked when it is",
                    spec.source,
                )
            await self.upsert(
                self.uow.rules,
                Rule(
                    ref=spec.ref,
                    pack=pack_id,
                    pack_ref=self.spec.ref,
                    label=spec.label,
                    description=spec.description,
                    action=action_id,
                    action_ref=spec.action_ref,
                    trigger=trigger_id,
                    trigger_ref=spec.trigger_ref,
                    conditions=spec.conditions,
                    action_params=spec.action_params,
                    trigger_params=spec.trigger_params,
                    enabled=spec.enabled,
                    is_adhoc=False,
                ),
            )
            refs.add(spec.ref)
            self.counts["rules"] += 1
        await self.remove_stale(self.uow.rules, "rules", refs)

    async def policies(self, pack_id: int) -> None:
        refs: set[str] = set()
        for spec in self.spec.policies:
            action_id = await self.action_id(spec.action_ref)
            if action_id is None:
                self.warn(
                    f"policy {spec.ref} limits action {spec.action_ref!r}, which is not "
                    "registered yet; it is linked when it is",
                    spec.source,
                )
            await self.upsert(
                self.uow.policies,
                Policy(
                    ref=spec.ref,
                    pack=pack_id,
                    pack_ref=self.spec.ref,
                    action=action_id,
                    action_ref=spec.action_ref,
                    parameters=list(spec.parameters),
                    method=spec.method,
                    threshold=spec.threshold,
                    name=spec.name,
                    description=spec.description,
                    tags=list(spec.tags),
                ),
            )
            refs.add(spec.ref)
            self.counts["policies"] += 1
        await self.remove_stale(self.uow.policies, "policies", refs)

    async def backfill(
        self,
        runtime_ids: Mapping[str, int],
        trigger_ids: Mapping[str, int],
        action_ids: Mapping[str, int],
    ) -> None:
        """Link components of any pack that were waiting for this pack's refs (rule 5)."""
        uow = self.uow
        if action_ids:
            for rule in await uow.rules.list(action=None, action_ref=list(action_ids)):
                assert rule.id is not None
                await uow.rules.update(rule.id, action=action_ids[rule.action_ref])
            for policy in await uow.policies.list(action=None, action_ref=list(action_ids)):
                assert policy.id is not None and policy.action_ref is not None
                await uow.policies.update(policy.id, action=action_ids[policy.action_ref])
        if trigger_ids:
            for rule in await uow.rules.list(trigger=None, trigger_ref=list(trigger_ids)):
                assert rule.id is not None
                await uow.rules.update(rule.id, trigger=trigger_ids[rule.trigger_ref])
            for sensor in await uow.sensors.list(trigger=None, trigger_ref=list(trigger_ids)):
                assert sensor.id is not None and sensor.trigger_ref is not None
                await uow.sensors.update(sensor.id, trigger=trigger_ids[sensor.trigger_ref])
        if runtime_ids:
            for sensor in await uow.sensors.list(runtime=None, runtime_ref=list(runtime_ids)):
                assert sensor.id is not None and sensor.runtime_ref is not None
                await uow.sensors.update(sensor.id, runtime=runtime_ids[sensor.runtime_ref])

    async def check_workflow_tasks(self) -> None:
        for workflow in self.spec.workflows:
            for ref in sorted(set(workflow.task_actions)):
                if await self.uow.actions.find_by_ref(ref) is None:
                    self.warn(
                        f"workflow {workflow.ref} calls action {ref!r}, which is not registered",
                        workflow.source,
                    )
