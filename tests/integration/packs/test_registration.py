"""Pack registration on SQLite and PostgreSQL: order, idempotency, all-or-nothing, cross-pack.

Every test takes the ``store`` fixture, so it runs on both backends. Packs come from
tests/fixtures/packs (copied to a temporary directory when a test edits them).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import attrs
import pytest

from attune_core.clock import FakeClock
from attune_core.errors import AttuneError, NotFound
from attune_core.model import Action, ParameterDelivery, PolicyMethod
from attune_core.packs import (
    PackLoadError,
    RegistrationResult,
    load_pack,
    register_pack,
    register_packs,
    unregister_pack,
)
from attune_core.resources import packs_dir
from attune_core.storage import Store

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "packs"
CORE = FIXTURES / "mini_core"
DEMO = FIXTURES / "demo"


def copy_pack(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


async def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables a registration writes, for before/after comparisons."""
    async with store.read() as uow:
        repos = {
            "packs": uow.packs,
            "runtimes": uow.runtimes,
            "runtime_versions": uow.runtime_versions,
            "triggers": uow.triggers,
            "actions": uow.actions,
            "workflows": uow.workflow_definitions,
            "sensors": uow.sensors,
            "rules": uow.rules,
            "policies": uow.policies,
        }
        out: dict[str, list[dict[str, Any]]] = {}
        for name, repo in repos.items():
            rows: list[Any] = await repo.list()
            out[name] = sorted((attrs.asdict(r) for r in rows), key=lambda r: r["id"])
        return out


@pytest.fixture
async def core(store: Store) -> Store:
    """The store with the stand-in core pack registered (runtimes, core.echo, a timer)."""
    await register_pack(store, CORE)
    return store


async def test_core_stand_in_registers_runtimes_and_versions(store: Store) -> None:
    result = await register_pack(store, CORE)

    assert result.created
    assert result.counts["runtimes"] == 4
    assert result.counts["runtime_versions"] == 3
    async with store.read() as uow:
        python = await uow.runtimes.get_by_ref("core.python")
        versions = await uow.runtime_versions.list_for_runtime(python.id or 0)
        native = await uow.runtimes.get_by_ref("core.native")
        pack = await uow.packs.get_by_ref("core")
    # Newest first; "3.10" keeps its text although YAML reads 3.10 as the float 3.1.
    assert [(v.version, v.version_minor, v.is_default) for v in versions] == [
        ("3.12", 12, True),
        ("3.11", 11, False),
        ("3.10", 10, False),
    ]
    assert python.name == "Python"
    assert python.execution_config["interpreter"]["binary"] == "python3"
    assert native.execution_config == {}
    assert pack.is_standard is True
    assert pack.version == "1.4.2"


async def test_demo_pack_registers_every_component(core: Store) -> None:
    result = await register_pack(core, DEMO)

    assert result.counts == {
        "runtimes": 1,
        "runtime_versions": 0,
        "triggers": 1,
        "workflows": 3,
        "actions": 7,
        "sensors": 1,
        "rules": 2,
        "policies": 1,
    }
    assert sum(result.removed.values()) == 0
    assert any("keywords" in str(w) for w in result.warnings)
    async with core.read() as uow:
        pack = await uow.packs.get_by_ref("demo")
        hello = await uow.actions.get_by_ref("demo.hello")
        custom = await uow.actions.get_by_ref("demo.custom")
        shell = await uow.runtimes.get_by_ref("core.shell")
        bash5 = await uow.runtimes.get_by_ref("demo.bash5")
        build = await uow.actions.get_by_ref("demo.build")
        build_def = await uow.workflow_definitions.get_by_ref("demo.build")
        deploy = await uow.actions.get_by_ref("demo.deploy")
        sensor = await uow.sensors.get_by_ref("demo.watcher")
        trigger = await uow.triggers.get_by_ref("demo.webhook")
        python = await uow.runtimes.get_by_ref("core.python")
        rule = await uow.rules.get_by_ref("demo.on_webhook")
        timer_rule = await uow.rules.get_by_ref("demo.every_minute")
        echo = await uow.actions.get_by_ref("core.echo")
        timer = await uow.triggers.get_by_ref("core.intervaltimer")
        policy = await uow.policies.get_by_ref("demo.hello_limit")

    assert pack.config == {"endpoint": "https://example.invalid/api", "retries": 3}
    assert pack.dependencies == ["core>=1.0"]
    assert pack.meta["author"] == "Attune tests"
    assert pack.label == "Demo pack"

    assert hello.runtime == shell.id
    assert hello.pack == pack.id
    assert hello.parameter_delivery is ParameterDelivery.FILE
    assert hello.timeout == 30
    assert hello.param_schema is not None and hello.param_schema["password"]["secret"] is True
    assert custom.runtime == bash5.id  # runner_type "Bash5": a runtime name of this pack

    assert build.workflow_def == build_def.id
    assert build.entrypoint == "workflows/build.workflow.yaml"
    assert build.runtime is None
    assert build_def.definition["tasks"][0]["name"] == "greet"  # stored verbatim
    assert build_def.param_schema == {"target": {"type": "string", "required": True}}
    assert deploy.label == "Deploy"
    assert deploy.workflow_def is not None

    assert (sensor.trigger, sensor.trigger_ref) == (trigger.id, "demo.webhook")
    assert (sensor.runtime, sensor.runtime_ref) == (python.id, "core.python")
    assert (rule.action, rule.trigger) == (hello.id, trigger.id)
    assert rule.conditions == [{"field": "payload.status", "operator": "equals", "value": "ok"}]
    assert (timer_rule.action, timer_rule.trigger) == (echo.id, timer.id)
    assert timer_rule.trigger_params == {"unit": "minutes", "interval": 1}
    assert (policy.action, policy.method, policy.threshold) == (hello.id, PolicyMethod.ENQUEUE, 2)


async def test_reregistering_updates_in_place_with_stable_ids(
    core: Store, clock: FakeClock
) -> None:
    await register_pack(core, DEMO)
    before = await snapshot(core)
    await clock.advance(60)

    again = await register_pack(core, DEMO)

    assert not again.created
    assert sum(again.removed.values()) == 0
    # Nothing changed in the files, so nothing changed in the rows (not even `updated`).
    assert await snapshot(core) == before


async def test_changed_files_update_rows_and_deleted_files_remove_components(
    core: Store, tmp_path: Path
) -> None:
    pack_dir = copy_pack(DEMO, tmp_path)
    await register_pack(core, pack_dir)
    async with core.read() as uow:
        hello_id = (await uow.actions.get_by_ref("demo.hello")).id
        tool_id = (await uow.actions.get_by_ref("demo.tool")).id
    async with core.transaction() as uow:
        # An ad-hoc action created through the API in this pack: the files never owned it.
        pack = await uow.packs.get_by_ref("demo")
        await uow.actions.create(
            Action(
                ref="demo.adhoc",
                pack=pack.id,
                pack_ref="demo",
                label="ad hoc",
                entrypoint="echo hi",
                is_adhoc=True,
            )
        )

    (pack_dir / "actions" / "tool.yaml").unlink()
    (pack_dir / "actions" / "workflows" / "deploy.workflow.yaml").unlink()
    (pack_dir / "workflows" / "nightly.yaml").unlink()  # it called demo.deploy
    (pack_dir / "rules" / "on_webhook.yaml").unlink()
    (pack_dir / "policies" / "hello_limit.yaml").unlink()
    hello = pack_dir / "actions" / "hello.yaml"
    hello.write_text(hello.read_text().replace("timeout: 30", "timeout: 45"))
    manifest = pack_dir / "pack.yaml"
    manifest.write_text(manifest.read_text().replace("version: 1.2.0", "version: 1.3.0"))

    result = await register_pack(core, pack_dir)

    assert result.removed["actions"] == 3  # tool, deploy, nightly
    assert result.removed["workflows"] == 2
    assert result.removed["rules"] == 1
    assert result.removed["policies"] == 1
    async with core.read() as uow:
        hello_row = await uow.actions.get_by_ref("demo.hello")
        assert (hello_row.id, hello_row.timeout) == (hello_id, 45)
        assert await uow.actions.find(tool_id or 0) is None
        assert await uow.workflow_definitions.find_by_ref("demo.deploy") is None
        assert await uow.rules.find_by_ref("demo.on_webhook") is None
        assert await uow.policies.find_by_ref("demo.hello_limit") is None
        assert await uow.actions.find_by_ref("demo.adhoc") is not None
        assert (await uow.packs.get_by_ref("demo")).version == "1.3.0"


async def test_a_broken_second_version_changes_nothing(core: Store, tmp_path: Path) -> None:
    pack_dir = copy_pack(DEMO, tmp_path)
    await register_pack(core, pack_dir)
    before = await snapshot(core)

    manifest = pack_dir / "pack.yaml"
    manifest.write_text(manifest.read_text().replace("version: 1.2.0", "version: 2.0.0"))
    (pack_dir / "actions" / "hello.sh").unlink()  # missing script
    (pack_dir / "triggers" / "webhook.yaml").write_text("name: webhook\nlabel: [unclosed\n")
    (pack_dir / "actions" / "new.yaml").write_text(
        "name: new\nrunner_type: cobol\nentry_point: hello.sh\n"
    )

    with pytest.raises(PackLoadError) as caught:
        await register_pack(core, pack_dir)

    reasons = {(Path(e.path or "").name, e.line): e.reason for e in caught.value.errors}
    assert reasons[("hello.yaml", 4)].startswith("entry_point 'hello.sh' does not exist")
    assert reasons[("new.yaml", 3)].startswith("entry_point 'hello.sh' does not exist")
    assert reasons[("webhook.yaml", 3)].startswith("invalid YAML")
    assert await snapshot(core) == before


async def test_a_failure_in_the_middle_of_the_writes_rolls_everything_back(core: Store) -> None:
    await register_pack(core, DEMO)
    before = await snapshot(core)
    spec = load_pack(DEMO)
    # A hand-built spec that only the database rejects (CHECK threshold >= 0), after the pack
    # row, runtimes, triggers, actions, sensors and rules of version 9.9.9 were written.
    (policy,) = spec.policies
    broken = attrs.evolve(spec, version="9.9.9", policies=(attrs.evolve(policy, threshold=-1),))

    with pytest.raises(AttuneError):
        await register_pack(core, broken)

    assert await snapshot(core) == before


async def test_an_unknown_runner_is_rejected_at_registration_with_file_and_line(
    core: Store, tmp_path: Path
) -> None:
    pack_dir = copy_pack(DEMO, tmp_path)
    await register_pack(core, pack_dir)
    before = await snapshot(core)
    manifest = pack_dir / "pack.yaml"
    manifest.write_text(manifest.read_text().replace("version: 1.2.0", "version: 2.0.0"))
    (pack_dir / "actions" / "new.yaml").write_text(
        "name: new\nentry_point: hello.sh\nrunner_type: cobol\n"
    )

    with pytest.raises(PackLoadError) as caught:
        await register_pack(core, pack_dir)

    (error,) = caught.value.errors
    assert (Path(error.path or "").name, error.line) == ("new.yaml", 3)
    assert "unknown runner_type 'cobol'" in error.reason
    assert "core.shell" in error.reason  # the message lists what is known
    assert await snapshot(core) == before


async def test_an_action_without_runtimes_registered_names_the_missing_default(
    store: Store, tmp_path: Path
) -> None:
    pack_dir = tmp_path / "lonely"
    (pack_dir / "actions").mkdir(parents=True)
    (pack_dir / "pack.yaml").write_text("ref: lonely\nversion: 1.0.0\n")
    (pack_dir / "actions" / "run.yaml").write_text("name: run\nentry_point: run.sh\n")
    (pack_dir / "actions" / "run.sh").write_text("true\n")

    with pytest.raises(PackLoadError) as caught:
        await register_pack(store, pack_dir)

    assert "default runtime 'core.shell' is not registered" in caught.value.errors[0].reason
    async with store.read() as uow:
        assert await uow.packs.find_by_ref("lonely") is None


async def test_dependencies_are_checked_against_registered_packs(
    store: Store, tmp_path: Path
) -> None:
    with pytest.raises(PackLoadError) as missing:
        await register_pack(store, DEMO)
    error, *others = missing.value.errors
    assert "pack 'core' is not registered" in error.reason
    assert (Path(error.path or "").name, error.line) == ("pack.yaml", 11)
    # Every problem at once: without core, its runtimes are missing too.
    assert others and all("runner_type" in e.reason for e in others)

    await register_pack(store, CORE)  # core 1.4.2
    pack_dir = copy_pack(DEMO, tmp_path)
    manifest = pack_dir / "pack.yaml"
    manifest.write_text(manifest.read_text().replace("core>=1.0", "core@^2.0"))
    with pytest.raises(PackLoadError) as wrong:
        await register_pack(store, pack_dir)
    assert "is at version 1.4.2, which does not satisfy ^2.0" in wrong.value.errors[0].reason

    forced = await register_pack(store, pack_dir, force=True)
    assert any("does not satisfy" in w.message for w in forced.warnings)
    async with store.read() as uow:
        assert (await uow.packs.get_by_ref("demo")).dependencies == ["core@^2.0"]


async def test_cross_pack_rules_link_when_the_target_pack_arrives(
    core: Store, tmp_path: Path
) -> None:
    consumer = tmp_path / "consumer"
    (consumer / "rules").mkdir(parents=True)
    (consumer / "pack.yaml").write_text("ref: consumer\nversion: 0.1.0\n")
    (consumer / "rules" / "greet.yaml").write_text(
        "name: greet\ntrigger_ref: demo.webhook\naction_ref: demo.hello\n"
        "action_params: {name: world}\n"
    )

    early = await register_pack(core, consumer)
    assert sum("not registered yet" in w.message for w in early.warnings) == 2
    async with core.read() as uow:
        rule = await uow.rules.get_by_ref("consumer.greet")
    assert (rule.action, rule.trigger) == (None, None)

    await register_pack(core, DEMO)
    async with core.read() as uow:
        rule = await uow.rules.get_by_ref("consumer.greet")
        hello = await uow.actions.get_by_ref("demo.hello")
        webhook = await uow.triggers.get_by_ref("demo.webhook")
    assert (rule.action, rule.trigger) == (hello.id, webhook.id)

    await unregister_pack(core, "demo")
    async with core.read() as uow:
        rule = await uow.rules.get_by_ref("consumer.greet")
        assert await uow.actions.find_by_ref("demo.hello") is None
        assert await uow.workflow_definitions.list_by_pack("demo") == []
    # The ids are gone with the pack; the refs stay, ready for the next registration.
    assert (rule.action, rule.trigger, rule.action_ref) == (None, None, "demo.hello")


async def test_unregistering_an_unknown_pack_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await unregister_pack(store, "nope")


async def test_state_the_files_do_not_hold_survives_reregistration(core: Store) -> None:
    await register_pack(core, DEMO)
    async with core.transaction() as uow:
        trigger = await uow.triggers.get_by_ref("demo.webhook")
        enabled = await uow.triggers.enable_webhook(trigger.id or 0)
        pack = await uow.packs.get_by_ref("demo")
        await uow.packs.update(pack.id or 0, config={**pack.config, "api_token": "s3cret"})
        python = await uow.runtimes.get_by_ref("core.python")
        (v312,) = [
            v
            for v in await uow.runtime_versions.list_for_runtime(python.id or 0)
            if v.version == "3.12"
        ]
        await uow.runtime_versions.update(v312.id or 0, available=False)

    await register_pack(core, DEMO)
    await register_pack(core, CORE)

    async with core.read() as uow:
        trigger = await uow.triggers.get_by_ref("demo.webhook")
        pack = await uow.packs.get_by_ref("demo")
        v312_after = await uow.runtime_versions.get(v312.id or 0)
    assert (trigger.webhook_enabled, trigger.webhook_key) == (True, enabled.webhook_key)
    assert pack.config["api_token"] == "s3cret"
    assert v312_after.available is False


async def test_registering_a_loaded_spec_is_the_same_as_a_path(core: Store) -> None:
    spec = load_pack(DEMO)
    result = await register_pack(core, spec)
    assert result.pack.ref == "demo"
    assert result.counts["actions"] == len(spec.actions)


async def test_the_shipped_core_pack_registers(store: Store) -> None:
    core_dir = packs_dir() / "core"
    spec = load_pack(core_dir)  # raises with every problem if the core pack is broken

    result = await register_pack(store, core_dir)

    assert result.pack.ref == "core"
    assert result.pack.is_standard is True
    assert result.counts["actions"] == len(spec.actions)
    assert result.counts["runtimes"] == len(spec.runtimes)
    async with store.read() as uow:
        for action in spec.actions:
            row = await uow.actions.get_by_ref(action.ref)
            assert row.workflow_def is not None or row.runtime is not None, action.ref


async def test_the_demo_pack_runs_on_the_shipped_core_pack(store: Store) -> None:
    await register_pack(store, packs_dir() / "core")
    result = await register_pack(store, DEMO)

    async with store.read() as uow:
        hello = await uow.actions.get_by_ref("demo.hello")
        shell = await uow.runtimes.get_by_ref("core.shell")
    assert hello.runtime == shell.id
    assert not [w for w in result.warnings if "not registered" in w.message]


async def test_a_batch_is_registered_dependencies_first(store: Store, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pack.yaml").write_text("ref: broken\n")  # no version

    outcomes = await register_packs(store, [DEMO, broken, CORE])

    assert list(outcomes) == [str(broken), str(CORE), str(DEMO)]
    assert isinstance(outcomes[str(DEMO)], RegistrationResult)
    assert isinstance(outcomes[str(CORE)], RegistrationResult)
    failure = outcomes[str(broken)]
    assert isinstance(failure, PackLoadError)
    assert failure.errors[0].reason == "version is required (semver, e.g. 1.0.0)"
