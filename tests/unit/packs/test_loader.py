"""The pack loader on fixture packs: what it builds, and how every problem names file and line.

Broken packs are written into ``tmp_path`` by :func:`make_pack`, so each test shows the exact
text whose line numbers it asserts.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from attune_core.errors import PackError
from attune_core.model import OutputFormat, ParameterDelivery, ParameterFormat, PolicyMethod
from attune_core.packs import PackLoadError, PackSpec, load_pack, runner_ref

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "packs"

MANIFEST = "ref: mypack\nversion: 1.0.0\n"


def make_pack(root: Path, files: dict[str, str], *, executable: tuple[str, ...] = ()) -> Path:
    """Write ``files`` (path -> text, dedented) under ``root/mypack`` and return the pack."""
    pack = root / "mypack"
    for name, text in {"pack.yaml": MANIFEST, **files}.items():
        path = pack / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        if name in executable:
            path.chmod(0o755)
    return pack


def problems(pack: Path) -> list[tuple[str, int | None, str]]:
    """(file relative to the pack, line, reason) of every error of a rejected pack."""
    with pytest.raises(PackLoadError) as caught:
        load_pack(pack)
    out = []
    for error in caught.value.errors:
        assert isinstance(error, PackError)
        rel = Path(error.path or "").relative_to(pack).as_posix()
        out.append((rel, error.line, error.reason))
    return out


def only_problem(pack: Path) -> tuple[str, int | None, str]:
    (found,) = problems(pack)
    return found


# -- the demo fixture ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> PackSpec:
    return load_pack(FIXTURES / "demo")


def test_demo_pack_metadata(demo: PackSpec) -> None:
    assert (demo.ref, demo.version, demo.label) == ("demo", "1.2.0", "Demo pack")
    assert demo.tags == ("demo", "fixture")
    assert demo.runtime_deps == ("jq",)
    assert [str(d) for d in demo.dependencies] == ["core>=1.0"]
    # The unknown key is kept in meta, with a warning that names its line.
    assert demo.meta["keywords"] == ["legacy-key"]
    assert [(Path(w.path or "").name, w.line) for w in demo.warnings] == [("pack.yaml", 12)]
    assert demo.meta["author"] == "Attune tests"


def test_config_gets_the_conf_schema_defaults(demo: PackSpec) -> None:
    assert demo.config == {"endpoint": "https://example.invalid/api", "retries": 3}
    assert demo.conf_schema["api_token"] == {"type": "string", "secret": True}


def test_components_in_registration_order_with_default_refs(demo: PackSpec) -> None:
    assert [r.ref for r in demo.runtimes] == ["demo.bash5"]
    assert [t.ref for t in demo.triggers] == ["demo.webhook"]
    assert [a.ref for a in demo.actions] == [
        "demo.build",
        "demo.custom",
        "demo.hello",
        "demo.legacy",
        "demo.tool",
        "demo.deploy",
        "demo.nightly",
    ]
    assert [s.ref for s in demo.sensors] == ["demo.watcher"]
    assert [r.ref for r in demo.rules] == ["demo.every_minute", "demo.on_webhook"]
    assert [p.ref for p in demo.policies] == ["demo.hello_limit"]


def test_action_fields(demo: PackSpec) -> None:
    hello = next(a for a in demo.actions if a.ref == "demo.hello")
    assert hello.runner is not None
    assert (hello.runner.value, hello.runner.written, hello.runner.source.line) == (
        "core.shell",
        "bash",
        3,
    )
    assert hello.entrypoint == "hello.sh"
    assert hello.parameter_delivery is ParameterDelivery.FILE
    assert hello.parameter_format is ParameterFormat.YAML
    assert hello.output_format is OutputFormat.JSON
    assert (hello.timeout, hello.tags) == (30, ("greeting",))
    assert hello.out_schema == {"greeting": {"type": "string"}}


def test_legacy_json_schema_parameters_are_converted_to_flat(demo: PackSpec) -> None:
    legacy = next(a for a in demo.actions if a.ref == "demo.legacy")
    assert legacy.param_schema == {
        "url": {"type": "string", "required": True},
        "verbose": {"type": "boolean", "default": False},
    }
    assert legacy.runtime_version_constraint == "3.12"


def test_workflows_from_all_three_places(demo: PackSpec) -> None:
    by_ref = {w.ref: w for w in demo.workflows}
    assert set(by_ref) == {"demo.build", "demo.deploy", "demo.nightly"}
    # Named by an action yaml: metadata from the yaml, tasks from the file.
    build = by_ref["demo.build"]
    assert build.file == "workflows/build.workflow.yaml"
    assert build.param_schema == {"target": {"type": "string", "required": True}}
    assert build.task_actions == ("demo.hello", "core.echo")
    assert build.version == "1.0.0"
    # Standalone under actions/workflows: ref from the file name, metadata from the file.
    deploy = by_ref["demo.deploy"]
    assert (deploy.label, deploy.file) == ("Deploy", "workflows/deploy.workflow.yaml")
    assert deploy.definition["tasks"][0]["on_success"] == "notify"  # stored verbatim
    assert deploy.version == "1.2.0"  # no version in the file: the pack's
    # Under workflows/: the entrypoint is still relative to actions/.
    assert by_ref["demo.nightly"].file == "../workflows/nightly.yaml"
    companion = next(a for a in demo.actions if a.ref == "demo.deploy")
    assert companion.runner is None and companion.workflow is deploy


def test_sensor_rule_and_policy_fields(demo: PackSpec) -> None:
    (sensor,) = demo.sensors
    assert sensor.trigger_types == ("demo.webhook",)  # a bare name means this pack's
    assert sensor.runner.value == "core.python"
    assert sensor.poll_interval == 30
    nested = demo.rules[0]
    assert (nested.trigger_ref, nested.action_ref) == ("core.intervaltimer", "core.echo")
    assert nested.trigger_params == {"unit": "minutes", "interval": 1}
    assert nested.action_params == {"message": "tick"}
    (policy,) = demo.policies
    assert (policy.action_ref, policy.threshold, policy.parameters) == (
        "demo.hello",
        2,
        ("name",),
    )


def test_runtime_versions_keep_the_text_written(tmp_path: Path) -> None:
    core = load_pack(FIXTURES / "mini_core")
    python = next(r for r in core.runtimes if r.ref == "core.python")
    assert [(v.version, v.is_default) for v in python.versions] == [
        ("3.11", False),
        ("3.12", True),
        ("3.10", False),
    ]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("shell", "core.shell"),
        ("bash", "core.shell"),
        ("sh", "core.shell"),
        ("python", "core.python"),
        ("Python3", "core.python"),
        ("node", "core.nodejs"),
        ("nodejs", "core.nodejs"),
        ("node.js", "core.nodejs"),
        ("native", "core.native"),
        ("builtin", "core.native"),
        ("standalone", "core.native"),
        ("other.ruby", "other.ruby"),
        ("Ruby", "Ruby"),
    ],
)
def test_runner_type_mapping(written: str, expected: str) -> None:
    assert runner_ref(written) == expected


# -- errors name file and line ---------------------------------------------------------------


def test_invalid_yaml(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "actions/a.yaml": "name: a\nentry_point: a.sh\nparameters: {x: [1, 2}\n",
            "actions/a.sh": "",
        },
    )
    file, line, reason = only_problem(pack)
    assert (file, line) == ("actions/a.yaml", 3)
    assert reason.startswith("invalid YAML")


def test_invalid_yaml_in_pack_yaml(tmp_path: Path) -> None:
    pack = make_pack(tmp_path, {"pack.yaml": "ref: mypack\nversion: 1.0.0\ntags: [a\n"})
    found = problems(pack)
    assert found[0][:2] == ("pack.yaml", 4)
    assert found[0][2].startswith("invalid YAML")


def test_duplicate_yaml_keys(tmp_path: Path) -> None:
    pack = make_pack(tmp_path, {"triggers/t.yaml": "name: t\nlabel: one\nlabel: two\n"})
    assert only_problem(pack) == ("triggers/t.yaml", 3, "duplicate key 'label'")


def test_missing_script(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path, {"actions/a.yaml": "name: a\nrunner_type: shell\nentry_point: a.sh\n"}
    )
    file, line, reason = only_problem(pack)
    assert (file, line) == ("actions/a.yaml", 3)
    assert reason == "entry_point 'a.sh' does not exist (looked for actions/a.sh)"


def test_missing_entry_point_key(tmp_path: Path) -> None:
    pack = make_pack(tmp_path, {"sensors/s.yaml": "name: s\n"})
    file, _, reason = only_problem(pack)
    assert file == "sensors/s.yaml"
    assert reason.startswith("entry_point is required")


def test_entry_point_outside_the_pack(tmp_path: Path) -> None:
    (tmp_path / "outside.sh").write_text("true\n")
    pack = make_pack(tmp_path, {"actions/a.yaml": "name: a\nentry_point: ../../outside.sh\n"})
    assert only_problem(pack) == (
        "actions/a.yaml",
        2,
        "entry_point '../../outside.sh' points outside the pack directory",
    )


def test_bad_schema_points_at_the_offending_key(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "actions/a.yaml": """\
                name: a
                entry_point: a.sh
                parameters:
                  url:
                    type: strng
                  count: {type: integer, minimum: 5, maximum: 1}
                  mode: {type: string, enum: [a, b], default: c}
                """,
            "actions/a.sh": "",
        },
    )
    assert problems(pack) == [
        (
            "actions/a.yaml",
            5,
            "invalid schema: url.type: unknown type 'strng' "
            "(one of any, array, boolean, integer, number, object, string)",
        ),
        ("actions/a.yaml", 6, "invalid schema: count.minimum: minimum 5 is greater than maximum 1"),
        (
            "actions/a.yaml",
            7,
            "invalid schema: mode.default: default must be one of 'a', 'b' (got 'c')",
        ),
    ]


def test_bad_conf_schema_and_config(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "pack.yaml": """\
                ref: mypack
                version: 1.0.0
                conf_schema:
                  port: {type: integer}
                  host: {type: string, required: true}
                config:
                  port: eighty
                """
        },
    )
    with pytest.raises(PackLoadError) as caught:
        load_pack(pack)
    (error,) = caught.value.errors
    assert (error.line, error.reason) == (7, "config.port: expected integer, got string")
    # A missing required value can still be set through the API: a warning only.
    assert [w.message for w in caught.value.warnings] == [
        "config.host is required but not set in pack.yaml (set it through the API)"
    ]


def test_config_schema_yaml_file(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "config.schema.yaml": "region: {type: string, default: eu}\n",
            "pack.yaml": MANIFEST + "config: {}\n",
        },
    )
    spec = load_pack(pack)
    assert spec.conf_schema == {"region": {"type": "string", "default": "eu"}}
    assert spec.config == {"region": "eu"}


def test_duplicate_refs_name_both_places(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "triggers/one.yaml": "name: same\n",
            "triggers/two.yaml": "label: Two\nref: mypack.same\n",
        },
    )
    file, line, reason = only_problem(pack)
    assert (file, line) == ("triggers/two.yaml", 2)
    assert (
        reason
        == f"duplicate trigger ref 'mypack.same' (also defined at {pack}/triggers/one.yaml:1)"
    )


def test_a_workflow_and_an_action_cannot_share_a_ref(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "actions/deploy.yaml": "name: deploy\nentry_point: deploy.sh\n",
            "actions/deploy.sh": "",
            "actions/workflows/deploy.workflow.yaml": "tasks: []\n",
        },
    )
    file, _, reason = only_problem(pack)
    assert file == "actions/workflows/deploy.workflow.yaml"
    assert reason.startswith("duplicate action ref 'mypack.deploy'")


def test_a_ref_of_another_pack_is_rejected(tmp_path: Path) -> None:
    pack = make_pack(tmp_path, {"triggers/t.yaml": "ref: core.sneaky\n"})
    assert only_problem(pack) == (
        "triggers/t.yaml",
        1,
        "ref 'core.sneaky' belongs to pack 'core', not to this pack 'mypack'",
    )


def test_pack_yaml_problems_are_all_reported(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "pack.yaml": "ref: My Pack\nversion: one\ndependencies: [core>>1]\n",
            # Components are still checked, without one error each about the bad pack ref.
            "triggers/t.yaml": "ref: mypack.t\n",
            "triggers/u.yaml": "name: u\n",
        },
    )
    found = problems(pack)
    assert [(f, line) for f, line, _ in found] == [
        ("pack.yaml", 1),
        ("pack.yaml", 2),
        ("pack.yaml", 3),
    ]
    assert found[0][2].startswith("invalid pack ref 'My Pack'")
    assert found[1][2] == "invalid version 'one': expected semver like 1.2.0"
    assert "core>>1" in found[2][2]


def test_missing_pack_yaml(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(PackLoadError) as caught:
        load_pack(tmp_path / "empty")
    assert caught.value.errors[0].reason == "pack.yaml is missing: every pack needs one"


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(PackLoadError, match="not a directory"):
        load_pack(tmp_path / "nope")


def test_workflow_problems_carry_the_workflow_file_and_line(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "actions/workflows/flow.workflow.yaml": """\
                tasks:
                  - name: first
                    action: core.echo
                    next:
                      - do: [secnd]
                """
        },
    )
    file, line, reason = only_problem(pack)
    assert (file, line) == ("actions/workflows/flow.workflow.yaml", 5)
    assert "secnd" in reason


def test_workflow_file_named_by_an_action_must_exist(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path, {"actions/flow.yaml": "name: flow\nworkflow_file: workflows/flow.yaml\n"}
    )
    file, line, reason = only_problem(pack)
    assert (file, line) == ("actions/flow.yaml", 2)
    assert reason.startswith("workflow_file 'workflows/flow.yaml' does not exist")


def test_orquesta_runner_makes_a_workflow_action(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "actions/flow.yaml": (
                "name: flow\nrunner_type: orquesta\nentry_point: workflows/flow.yaml\n"
            ),
            "actions/workflows/flow.yaml": "tasks:\n  - name: a\n    action: core.noop\n",
        },
    )
    (action,) = load_pack(pack).actions
    assert action.runner is None
    assert action.workflow is not None and action.workflow.task_actions == ("core.noop",)


def test_every_problem_of_a_pack_is_reported_together(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "triggers/bad.yaml": "name: [\n",
            "actions/a.yaml": "name: a\nentry_point: missing.sh\n",
            "actions/b.yaml": "name: b\nentry_point: b.sh\nparameter_format: xml\n",
            "actions/b.sh": "",
            "rules/r.yaml": "name: r\ntrigger: mypack.t\naction: mypack.a\n"
            "conditions:\n  - {field: payload.x, operator: equal, value: 1}\n",
            "policies/p.yaml": "name: p\naction_ref: mypack.a\nthreshold: -1\n",
        },
    )
    found = problems(pack)
    assert [(f, line) for f, line, _ in found] == [
        ("triggers/bad.yaml", 2),
        ("actions/a.yaml", 2),
        ("actions/b.yaml", 3),
        ("rules/r.yaml", 5),
        ("policies/p.yaml", 3),
    ]
    assert found[2][2] == "invalid parameter_format 'xml' (one of json, dotenv, yaml)"
    assert found[3][2].startswith("unknown operator 'equal'")


def test_unknown_component_keys_are_warnings(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {"triggers/t.yaml": "name: t\nnotify: {on_complete: {}}\npack: other\n"},
    )
    spec = load_pack(pack)
    assert [(w.line, w.message) for w in spec.warnings] == [
        (2, "unknown key 'notify' ignored"),
        (3, "pack 'other' ignored: this file belongs to pack 'mypack'"),
    ]


def test_a_native_action_that_is_not_executable_is_a_warning(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "actions/a.yaml": "name: a\nrunner_type: native\nentry_point: a.bin\n",
            "actions/a.bin": "",
            "actions/b.yaml": "name: b\nrunner_type: native\nentry_point: b.bin\n",
            "actions/b.bin": "#!/bin/sh\n",
        },
        executable=("actions/b.bin",),
    )
    spec = load_pack(pack)
    assert [(Path(w.path or "").name, w.line) for w in spec.warnings] == [("a.yaml", 3)]


def test_runner_inferred_from_the_extension_when_missing(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "actions/a.yaml": "name: a\nentry_point: a.py\n",
            "actions/a.py": "",
            "actions/b.yaml": "name: b\nentry_point: b.sh\n",
            "actions/b.sh": "",
        },
    )
    runners = {a.ref: a.runner for a in load_pack(pack).actions}
    assert runners["mypack.a"] is not None and runners["mypack.a"].value == "core.python"
    assert runners["mypack.b"] is not None and runners["mypack.b"].written is None


def test_bad_runtime_version_constraint(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "actions/a.yaml": "name: a\nentry_point: a.sh\nruntime_version: '>=three'\n",
            "actions/a.sh": "",
        },
    )
    file, line, reason = only_problem(pack)
    assert (file, line) == ("actions/a.yaml", 3)
    assert reason.startswith("invalid runtime_version")


def test_runtime_problems(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "runtimes/r.yaml": """\
                name: Ruby
                execution_config:
                  interpreter: {binary: [ruby]}
                versions:
                  - {version: "3.2", is_default: true}
                  - {version: "3.2"}
                  - {version: three}
                """
        },
    )
    assert [(line, reason) for _, line, reason in problems(pack)] == [
        (3, "interpreter.binary must be a string"),
        (6, "duplicate runtime version '3.2'"),
        (7, "'three' is not a version (expected e.g. 1.2.3)"),
    ]


def test_policy_in_the_original_shape(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "policies/p.yaml": """\
                name: p
                resource_ref: mypack.a
                policy_type: action.concurrency
                parameters: {action: delay, threshold: 3, attributes: [host]}
                """
        },
    )
    (policy,) = load_pack(pack).policies
    assert (policy.method, policy.threshold, policy.parameters) == (
        PolicyMethod.ENQUEUE,
        3,
        ("host",),
    )


def test_a_workflow_file_nobody_names_is_a_warning(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path,
        {
            "actions/workflows/orphan.yaml": "tasks: []\n",
            "actions/broken.yaml": "name: broken\nworkflow_file: workflows/named.yaml\n"
            "timeout: 0\n",
            "actions/workflows/named.workflow.yaml": "tasks: []\n",
            "actions/workflows/named.yaml": "tasks: [\n",
        },
    )
    with pytest.raises(PackLoadError) as caught:
        load_pack(pack)
    # The broken action's workflow file is reported once, with its action's other problem.
    assert [(Path(e.path or "").name, e.line) for e in caught.value.errors] == [
        ("broken.yaml", 3),
        ("named.yaml", 2),
    ]
    (warning,) = caught.value.warnings
    assert Path(warning.path or "").name == "orphan.yaml"
    assert warning.message.startswith("not registered")
