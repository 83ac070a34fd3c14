"""Version reading, constraints (bare means ~) and the dependency syntax of pack.yaml."""

from __future__ import annotations

import pytest

from attune_core.packs import VersionConstraint, parse_dependency, parse_version


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3", "3.0.0"), ("3.12", "3.12.0"), ("v1.2.3", "1.2.3"), ("1.2.3-rc.1", "1.2.3-rc.1")],
)
def test_versions_are_read_leniently(text: str, expected: str) -> None:
    assert str(parse_version(text)) == expected


def test_a_non_version_is_rejected() -> None:
    with pytest.raises(ValueError, match="is not a version"):
        parse_version("three")


@pytest.mark.parametrize(
    ("constraint", "yes", "no"),
    [
        ("3.12", ["3.12.0", "3.12.9"], ["3.13.0", "3.11.9"]),  # bare means ~
        ("~3.12", ["3.12.4"], ["3.13.0"]),
        ("~1", ["1.9.0"], ["2.0.0"]),
        ("^2.1", ["2.1.0", "2.9.9"], ["3.0.0", "2.0.9"]),
        ("^0.2", ["0.2.5"], ["0.3.0"]),
        ("^0.0.3", ["0.0.3"], ["0.0.4"]),
        (">=1.0", ["1.0.0", "7.0.0"], ["0.9.9"]),
        (">=1.0, <2", ["1.5.0"], ["2.0.0"]),
        (">= 1.0 < 2", ["1.5.0"], ["2.0.0"]),
        ("=1.2.3", ["1.2.3"], ["1.2.4"]),
        ("==1.2.3", ["1.2.3"], ["1.2.4"]),
        ("!=1.2.3", ["1.2.4"], ["1.2.3"]),
        ("<2 || >=3", ["1.0.0", "3.1.0"], ["2.5.0"]),
        ("*", ["0.0.1", "99.0.0"], ["not-a-version"]),
    ],
)
def test_constraints(constraint: str, yes: list[str], no: list[str]) -> None:
    parsed = VersionConstraint.parse(constraint)
    assert [v for v in yes if parsed.matches(v)] == yes
    assert [v for v in no if parsed.matches(v)] == []


@pytest.mark.parametrize("bad", ["", ">>1", ">=x", "1.2 ||", "~"])
def test_bad_constraints_say_what_is_wrong(bad: str) -> None:
    with pytest.raises(ValueError, match=r"constraint|version"):
        VersionConstraint.parse(bad)


@pytest.mark.parametrize(
    ("text", "ref", "constraint"),
    [
        ("core", "core", None),
        ("core>=1.0", "core", ">=1.0"),
        ("other@^2.1", "other", "^2.1"),
        ("my-pack @ >=1, <2", "my-pack", ">=1, <2"),
        ("tools 1.4", "tools", "1.4"),
    ],
)
def test_dependency_syntax(text: str, ref: str, constraint: str | None) -> None:
    dependency = parse_dependency(text)
    assert dependency.ref == ref
    assert (str(dependency.constraint) if dependency.constraint else None) == constraint
    assert str(dependency) == text


def test_a_bad_dependency_is_rejected() -> None:
    with pytest.raises(ValueError, match="cannot read dependency"):
        parse_dependency("Core")
