"""Versions and version constraints of packs and runtimes (semver, read leniently).

Rules of this file:

1. Versions are read leniently, as pack authors write them: ``3``, ``3.12``, ``v1.2.3`` and
   ``1.2.3-rc.1`` are all versions (missing parts are 0). Comparison is semver's.
2. A constraint is one or more comparisons joined by ``,`` or spaces, all of which must hold;
   ``||`` separates alternatives. Operators: ``>= > <= < = == != ~ ^`` and ``*`` (anything).
3. A bare version means ``~``: ``3.12`` is ``>=3.12.0, <3.13.0``, and ``1`` is ``>=1.0.0,
   <2.0.0`` (the same rule for an action's ``runtime_version`` and a pack dependency). An exact
   match is written ``=1.2.3``.
4. Nothing here touches the database; :mod:`attune_core.packs._register` calls it.
"""

from __future__ import annotations

import re

import attrs
import semver

__all__ = ["Dependency", "VersionConstraint", "parse_dependency", "parse_version"]

_VERSION = re.compile(
    r"^\s*v?(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?\s*$"
)
_COMPARATOR = re.compile(r"^(?P<op>>=|<=|==|!=|>|<|=|~|\^)?\s*(?P<version>v?\d[0-9A-Za-z.+-]*)$")
# "<pack>" followed by an optional constraint, directly ("core>=1.0") or after "@" ("x@^2.1").
_DEPENDENCY = re.compile(r"^\s*(?P<ref>[a-z][a-z0-9_-]+)\s*(?:@\s*)?(?P<constraint>[^@]*?)\s*$")


def parse_version(text: str | int | float) -> semver.Version:
    """Read a version leniently (rule 1).

    Raises:
        ValueError: ``text`` is not a version.
    """
    match = _VERSION.match(str(text))
    if match is None:
        raise ValueError(f"{text!r} is not a version (expected e.g. 1.2.3)")
    return semver.Version(
        int(match["major"]),
        int(match["minor"] or 0),
        int(match["patch"] or 0),
        match["pre"],
        match["build"],
    )


@attrs.frozen
class _Comparison:
    op: str
    version: semver.Version

    def holds(self, candidate: semver.Version) -> bool:
        c = candidate.compare(self.version)
        return {
            ">=": c >= 0,
            ">": c > 0,
            "<=": c <= 0,
            "<": c < 0,
            "=": c == 0,
            "!=": c != 0,
        }[self.op]


@attrs.frozen
class VersionConstraint:
    """A parsed constraint (see the module rules for the syntax).

    Attributes:
        text: The constraint as written.
    """

    text: str
    _alternatives: tuple[tuple[_Comparison, ...], ...] = attrs.field(repr=False)

    @classmethod
    def parse(cls, text: str) -> VersionConstraint:
        """Parse ``text``.

        Raises:
            ValueError: With a message saying what part is wrong.
        """
        source = str(text).strip()
        if not source:
            raise ValueError("empty version constraint")
        alternatives: list[tuple[_Comparison, ...]] = []
        for alternative in source.split("||"):
            comparisons: list[_Comparison] = []
            # Allow a space between an operator and its version (">= 1.0").
            joined = re.sub(r"(>=|<=|==|!=|>|<|=|~|\^)\s+", r"\1", alternative)
            parts = [p for p in re.split(r"[,\s]+", joined) if p]
            if not parts:
                raise ValueError(f"empty alternative in version constraint {source!r}")
            for part in parts:
                comparisons.extend(_comparisons(part, source))
            alternatives.append(tuple(comparisons))
        return cls(source, tuple(alternatives))

    def matches(self, version: str | semver.Version) -> bool:
        """Whether ``version`` satisfies the constraint (an unreadable version never does)."""
        if not isinstance(version, semver.Version):
            try:
                version = parse_version(version)
            except ValueError:
                return False
        return any(all(c.holds(version) for c in alt) for alt in self._alternatives)

    def __str__(self) -> str:
        return self.text


def _comparisons(part: str, source: str) -> list[_Comparison]:
    if part in ("*", "x", "X"):
        return []
    match = _COMPARATOR.match(part)
    if match is None:
        raise ValueError(f"cannot read {part!r} in version constraint {source!r}")
    op = match["op"] or "~"  # rule 3: a bare version means "~"
    written = match["version"].lstrip("v")
    try:
        base = parse_version(written)
    except ValueError as exc:
        raise ValueError(f"{written!r} in version constraint {source!r} is not a version") from exc
    given = len(written.split("-")[0].split("+")[0].split("."))
    if op == "==":
        op = "="
    if op == "~":
        # ~1.2.3 and ~1.2 allow patch updates; ~1 allows minor updates.
        upper = base.bump_major() if given == 1 else base.bump_minor()
        return [_Comparison(">=", base), _Comparison("<", upper)]
    if op == "^":
        # ^ allows changes that keep the left-most non-zero part.
        if base.major > 0 or given == 1:
            upper = base.bump_major()
        elif base.minor > 0 or given == 2:
            upper = base.bump_minor()
        else:
            upper = base.bump_patch()
        return [_Comparison(">=", base), _Comparison("<", upper)]
    return [_Comparison(op, base)]


@attrs.frozen
class Dependency:
    """A pack dependency from ``pack.yaml``: ``core``, ``core>=1.0``, ``other@^2.1``.

    Attributes:
        ref: The pack ref depended on.
        constraint: The version constraint, or ``None`` for any version.
        text: The entry as written.
    """

    ref: str
    constraint: VersionConstraint | None
    text: str

    def __str__(self) -> str:
        return self.text


def parse_dependency(text: str) -> Dependency:
    """Parse one ``dependencies`` entry.

    Raises:
        ValueError: The entry is not ``<pack>[@]<constraint>``.
    """
    match = _DEPENDENCY.match(str(text))
    if match is None:
        raise ValueError(
            f"cannot read dependency {text!r}: expected '<pack>', '<pack>>=1.0' or '<pack>@^1.2'"
        )
    constraint_text = match["constraint"]
    constraint = VersionConstraint.parse(constraint_text) if constraint_text else None
    return Dependency(match["ref"], constraint, str(text).strip())
