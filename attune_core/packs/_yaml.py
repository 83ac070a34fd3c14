"""YAML files of a pack, parsed with the line of every value.

Rules of this file:

1. Reading a file never raises for bad content: a syntax error, a second document or a
   duplicated key becomes a :class:`~attune_core.errors.PackError` in the caller's list, with
   the file and the 1-based line, and the document is ``None`` (or built best-effort).
2. ``safe_load`` semantics only (no Python tags). Values are the plain types YAML produces.
3. Every node's line and raw scalar text are indexed by its path (a tuple of mapping keys and
   sequence indexes), so a later check can point at ``actions/echo.yaml:7`` and can recover the
   text an author typed (``version: 3.10`` is the float 3.1, but the author meant "3.10").
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from attune_core.errors import PackError

__all__ = ["YamlDoc", "load_yaml"]

Key = tuple[str | int, ...]


@attrs.frozen
class YamlDoc:
    """One parsed YAML file.

    Attributes:
        path: The file, as a string for messages (the pack directory joined with ``rel``).
        rel: Path relative to the pack directory (``actions/echo.yaml``).
        data: The parsed document (``None`` for an empty or unreadable file).
        lines: 1-based line of each node, by path.
        scalars: Raw text of each scalar node, by path.
    """

    path: str
    rel: str
    data: Any
    lines: Mapping[Key, int] = attrs.field(factory=dict)
    scalars: Mapping[Key, str] = attrs.field(factory=dict)

    def line(self, *keys: str | int) -> int | None:
        """Line of the value at ``keys``, or of its nearest ancestor that exists."""
        path: Key = tuple(keys)
        while path:
            found = self.lines.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.lines.get((), None)

    def key_line(self, *keys: str | int) -> int | None:
        """Line of the mapping key at ``keys`` (where ``name:`` is written)."""
        found = self.lines.get((*keys, "<key>"))
        return found if found is not None else self.line(*keys)

    def raw(self, *keys: str | int) -> str | None:
        """The text written for the scalar at ``keys`` (``None`` if not a scalar)."""
        return self.scalars.get(tuple(keys))

    def error(self, message: str, *keys: str | int) -> PackError:
        """A :class:`PackError` at the value of ``keys`` in this file."""
        return PackError(message, path=self.path, line=self.line(*keys))


def load_yaml(file: Path, pack_dir: Path, errors: list[PackError]) -> YamlDoc:
    """Parse ``file``; problems are appended to ``errors`` (see the module rules)."""
    rel = file.relative_to(pack_dir).as_posix()
    shown = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(PackError(f"cannot read the file: {exc}", path=shown))
        return YamlDoc(shown, rel, None)
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return YamlDoc(shown, rel, None, {(): 1})
            lines: dict[Key, int] = {}
            scalars: dict[Key, str] = {}
            _index(node, (), lines, scalars, shown, errors)
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        errors.append(PackError(f"invalid YAML: {_reason(exc)}", path=shown, line=line))
        return YamlDoc(shown, rel, None)
    return YamlDoc(shown, rel, data, lines, scalars)


def _reason(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem and context:
        return f"{problem} ({context})"
    if problem:
        return str(problem)
    return str(exc).splitlines()[0]


def _index(
    node: yaml.Node,
    path: Key,
    lines: dict[Key, int],
    scalars: dict[Key, str],
    shown: str,
    errors: list[PackError],
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        scalars.setdefault(path, str(node.value))
    elif isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            if key in seen:
                # safe_load keeps the last value silently; two `parameters:` blocks are a
                # mistake that would drop half of them, so it is an error.
                errors.append(
                    PackError(
                        f"duplicate key {key!r}", path=shown, line=key_node.start_mark.line + 1
                    )
                )
            seen.add(key)
            lines.setdefault((*path, key, "<key>"), key_node.start_mark.line + 1)
            _index(value_node, (*path, key), lines, scalars, shown, errors)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index(item, (*path, index), lines, scalars, shown, errors)
