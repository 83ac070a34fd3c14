"""Runtime version parsing, constraints and selection (original-spec "Runtime Version
Constraints"; a bare version means tilde)."""

from __future__ import annotations

import pytest
import semver

from attune_core.engine.worker import (
    NoRuntimeVersion,
    VerificationCommand,
    matches_constraint,
    parse_version,
    select_version,
)
from attune_core.errors import ValidationError
from attune_core.model import RuntimeVersion


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("3", "3.0.0"),
        ("3.12", "3.12.0"),
        ("3.12.1", "3.12.1"),
        ("v20.11.0", "20.11.0"),
        (" 3.13.0-rc1 ", "3.13.0-rc1"),
    ],
)
def test_versions_are_parsed_leniently(text: str, version: str) -> None:
    assert parse_version(text) == semver.Version.parse(version)


@pytest.mark.parametrize("text", ["", "python", "3.x.y", "1.2.3.4"])
def test_non_versions_are_rejected(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_version(text)


@pytest.mark.parametrize(
    ("constraint", "version", "expected"),
    [
        # Bare versions are tilde: 3.12 means >=3.12.0, <3.13.0.
        ("3.12", "3.12.0", True),
        ("3.12", "3.12.9", True),
        ("3.12", "3.13.0", False),
        ("3.12", "3.11.9", False),
        ("3", "3.13", True),
        ("3", "4.0", False),
        ("3.12.1", "3.12.0", False),
        ("3.12.1", "3.12.5", True),
        ("~3.12", "3.12.4", True),
        ("~3.12", "3.13.0", False),
        ("^3.12", "3.13.0", True),
        ("^3.12", "4.0.0", False),
        ("^0.2.3", "0.2.9", True),
        ("^0.2.3", "0.3.0", False),
        (">=3.12", "3.12.0", True),
        (">=3.12", "3.11.9", False),
        (">=3.12", "4.1", True),
        (">= 3.12", "3.13", True),
        (">=3.12,<4.0", "3.13", True),
        (">=3.12,<4.0", "4.0", False),
        (">=3.12 <4.0", "3.99", True),
        (">3.12", "3.12.9", False),
        (">3.12", "3.13.0", True),
        (">3.12.1", "3.12.2", True),
        ("<=3.12", "3.12.9", True),
        ("<=3.12", "3.13.0", False),
        ("<3.12", "3.11.99", True),
        ("=3.12", "3.12.7", True),
        ("==3.12.7", "3.12.7", True),
        ("==3.12.7", "3.12.8", False),
        ("!=3.12", "3.12.1", False),
        ("!=3.12", "3.13.0", True),
        ("3.x", "3.99.1", True),
        ("3.12.*", "3.12.4", True),
        ("3.12.*", "3.13.0", False),
        ("*", "1.0.0", True),
        (">=20 || 16", "16.3.0", True),
        (">=20 || 16", "18.0.0", False),
        ("v18", "18.19.0", True),
    ],
)
def test_constraints(constraint: str, version: str, expected: bool) -> None:
    assert matches_constraint(version, constraint) is expected


@pytest.mark.parametrize("constraint", ["python3", ">=", "=>3.12", "3.12 foo", "~>1.0", "|| 3"])
def test_invalid_constraints_are_rejected(constraint: str) -> None:
    with pytest.raises(ValidationError) as info:
        matches_constraint("3.12", constraint)
    assert constraint in str(info.value)


def version(number: str, *, available: bool = True, is_default: bool = False) -> RuntimeVersion:
    return RuntimeVersion(
        runtime=1,
        runtime_ref="core.python",
        version=number,
        available=available,
        is_default=is_default,
    )


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
        ("==3.12", "3.12.4"),
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
