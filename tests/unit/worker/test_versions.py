"""Runtime version selection (original-spec "Runtime Version Constraints": the highest
available version satisfying the action's constraint; a bare version means tilde). The
constraint syntax itself belongs to attune_core.packs and is tested there."""

from __future__ import annotations

import pytest

from attune_core.engine.worker import NoRuntimeVersion, VerificationCommand, select_version
from attune_core.errors import ValidationError
from attune_core.model import RuntimeVersion


def version(number: str, *, available: bool = True, is_default: bool = False) -> RuntimeVersion:
    return RuntimeVersion(
        runtime=1,
        runtime_ref="core.python",
        version=number,
        available=available,
        is_default=is_default,
    )


MANY = [version(v) for v in ("3.10", "3.11.9", "3.12", "3.12.4", "3.13.1", "4.0")]


@pytest.mark.parametrize(
    ("constraint", "chosen"),
    [
        # A bare version means tilde: 3.12 is >=3.12.0, <3.13.0.
        ("3.12", "3.12.4"),
        ("3", "3.13.1"),
        ("~3.11", "3.11.9"),
        ("^3.10", "3.13.1"),
        (">=3.12", "4.0"),
        (">= 3.12, <4.0", "3.13.1"),
        (">=3.12 <4.0", "3.13.1"),
        ("<3.12", "3.11.9"),
        ("<=3.12.0", "3.12"),
        ("=3.12.0", "3.12"),
        ("!=4.0", "3.13.1"),
        ("3.10 || 3.11", "3.11.9"),
        ("v3.12", "3.12.4"),
        ("*", "4.0"),
    ],
)
def test_runtime_version_constraints(constraint: str, chosen: str) -> None:
    assert select_version(constraint, MANY).version == chosen


@pytest.mark.parametrize("constraint", ["python3", ">=", "=>3.12", "3.12 foo", "~>1.0"])
def test_invalid_constraints_are_rejected(constraint: str) -> None:
    with pytest.raises(ValidationError) as info:
        select_version(constraint, MANY)
    assert info.value.field == "runtime_version"
    assert repr(constraint) in str(info.value)


VERSIONS = [
    version("3.11"),
    version("3.12", is_default=True),
    version("3.12.4"),
    version("3.13", available=False),
]


@pytest.mark.parametrize(
    ("constraint", "chosen"),
    [
        (">=3.11", "3.12.4"),
        ("3.12", "3.12.4"),
        ("~3.11", "3.11"),
        ("^3", "3.12.4"),
        ("==3.12", "3.12"),
        ("==3.12.0", "3.12"),
        (None, "3.12"),
        ("", "3.12"),
    ],
)
def test_select_picks_the_highest_available_match(constraint: str | None, chosen: str) -> None:
    assert select_version(constraint, VERSIONS).version == chosen


def test_no_constraint_without_an_available_default_takes_the_highest() -> None:
    versions = [version("3.11"), version("3.12", is_default=True, available=False)]
    assert select_version(None, versions).version == "3.11"


def test_nothing_available_names_the_constraint_and_the_versions() -> None:
    with pytest.raises(NoRuntimeVersion) as info:
        select_version(">=3.13", VERSIONS, runtime_ref="core.python")
    assert str(info.value) == (
        "No available version of runtime core.python satisfies '>=3.13' (versions found: "
        "3.11 (available), 3.12 (available), 3.12.4 (available), 3.13 (unavailable))"
    )
    assert info.value.details == {
        "constraint": ">=3.13",
        "versions": ["3.11", "3.12", "3.12.4", "3.13"],
    }


def test_no_versions_at_all() -> None:
    with pytest.raises(NoRuntimeVersion, match="no versions are registered"):
        select_version("3.12", [])
    with pytest.raises(NoRuntimeVersion, match="No available version of the runtime"):
        select_version(None, [version("3.12", available=False)])


def test_unparseable_registered_versions_are_ignored() -> None:
    assert select_version(None, [version("latest"), version("3.11")]).version == "3.11"


@pytest.mark.parametrize(
    ("raw", "command"),
    [
        (
            {"binary": "python3.12", "args": ["--version"], "pattern": "3\\.12", "priority": 2},
            VerificationCommand(
                binary="python3.12", args=("--version",), pattern="3\\.12", priority=2
            ),
        ),
        ("node --version", VerificationCommand(binary="node", args=("--version",))),
        (["sh", "-c", "exit 0"], VerificationCommand(binary="sh", args=("-c", "exit 0"))),
        (
            {"binary": "x", "args": "--v", "exit_code": 1},
            VerificationCommand(binary="x", args=("--v",), exit_code=1),
        ),
    ],
)
def test_verification_command_forms(raw: object, command: VerificationCommand) -> None:
    assert VerificationCommand.parse(raw) == command


@pytest.mark.parametrize("raw", ["", [], {"args": ["--version"]}, 42])
def test_malformed_verification_commands(raw: object) -> None:
    with pytest.raises(ValidationError):
        VerificationCommand.parse(raw)
