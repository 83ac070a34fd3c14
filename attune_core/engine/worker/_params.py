"""Parameter documents and inline shell scripts: pure text building, no I/O.

Rules of this file:

1. Parameters and secrets only ever reach an action through text built here (the stdin or file
   document, or the variable lines of an inline script); nothing here touches the process
   environment.
2. Secrets are merged under their key names into the parameter document; a parameter of the same
   name wins, so an action author always gets what the schema promised.
3. Every value that becomes shell text goes through :func:`shell_quote`; no other quoting exists.
4. Formats follow api-contract.md: dotenv is sorted ``key='value'`` lines, nested objects
   flattened, arrays as JSON; inline shell variables are not exported.
5. Every dotenv key is a shell identifier (:func:`shell_identifier`: ``a.b`` is written ``a_b``),
   so ``eval "$(cat)"`` of the document in bash is safe whatever the key names (dotted key refs,
   nested object keys from user input such as ``$(cmd)``); when two keys map to the same name,
   the one that already was that identifier wins, else the first in sort order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from attune_core.model import ParameterFormat

__all__ = [
    "build_inline_script",
    "format_dotenv",
    "format_parameters",
    "merge_secrets",
    "parameter_document",
    "scalar_text",
    "shell_identifier",
    "shell_quote",
]

# Names an inline script must not assign: bash refuses (read-only variables, which would abort
# the script under ``set -e``) or the assignment changes how the rest of the script runs
# (command lookup, word splitting, startup files). Such parameters are still available as
# ``PARAM_<NAME>``; such secrets are skipped (documented in docs/actions.md).
_RESERVED_SHELL_NAMES = frozenset(
    {
        "PATH",
        "IFS",
        "CDPATH",
        "ENV",
        "GLOBIGNORE",
        "SHELLOPTS",
        "EUID",
        "UID",
        "PPID",
        "GROUPS",
        "FUNCNAME",
        "LINENO",
        "PIPESTATUS",
        "PWD",
        "OLDPWD",
        "OPTIND",
        "SHLVL",
        "HOME",
    }
)

_IDENTIFIER_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def merge_secrets(parameters: Mapping[str, Any], secrets: Mapping[str, Any]) -> dict[str, Any]:
    """The document an action receives: secrets under their names, parameters winning.

    Args:
        parameters: The execution's parameters.
        secrets: Keys made available to the action, by key name.

    Returns:
        A new mapping; neither input is modified.
    """
    document = dict(secrets)
    document.update(parameters)
    return document


def scalar_text(value: Any) -> str:
    """A parameter value as text: strings raw, numbers as text, booleans ``true``/``false``,
    ``null`` empty, arrays and objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    # Floats, lists, dicts: JSON text is the one rendering every consumer can parse back.
    return json.dumps(value, ensure_ascii=False, default=str)


def shell_quote(text: str) -> str:
    """Quote ``text`` for bash: single quotes, each ``'`` written as ``'\\''``."""
    return "'" + text.replace("'", "'\\''") + "'"


def shell_identifier(name: str) -> str:
    """An identifier-safe variable name: unsafe characters become ``_``; a leading digit (or an
    empty name) gets a ``_`` prefix."""
    safe = _IDENTIFIER_UNSAFE.sub("_", name)
    if not safe or safe[0].isdigit():
        safe = "_" + safe
    return safe


def _is_reserved(identifier: str) -> bool:
    return identifier in _RESERVED_SHELL_NAMES or identifier.startswith("BASH")


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), item)
    else:
        yield prefix, scalar_text(value)


def format_dotenv(document: Mapping[str, Any]) -> str:
    """The dotenv rendering: sorted ``key='value'`` lines, one per (flattened) parameter.

    Nested objects are flattened (``a: {b: 1}`` is ``a_b='1'``), an empty object is written as
    ``'{}'``, arrays as JSON. Keys are made shell identifiers (``.`` and every other character
    outside ``[A-Za-z0-9_]`` become ``_``; a leading digit gets a ``_`` prefix), so the document
    is valid bash whatever the key names. Values are single-quoted like :func:`shell_quote`, so a
    value may span several lines.
    """
    chosen: dict[str, tuple[bool, str, str]] = {}
    for key, value in document.items():
        for flat, text in _flatten(str(key), value):
            identifier = shell_identifier(flat)
            # An exact identifier beats a renamed key; among renamed keys the smallest wins.
            rank = (identifier != flat, flat, text)
            current = chosen.get(identifier)
            if current is None or rank < current:
                chosen[identifier] = rank
    return "".join(
        f"{identifier}={shell_quote(chosen[identifier][2])}\n" for identifier in sorted(chosen)
    )


def format_parameters(document: Mapping[str, Any], fmt: ParameterFormat) -> str:
    """Render the parameter document in the action's ``parameter_format``."""
    if fmt is ParameterFormat.JSON:
        return json.dumps(dict(document), ensure_ascii=False, default=str)
    if fmt is ParameterFormat.DOTENV:
        return format_dotenv(document).rstrip("\n")
    return yaml.safe_dump(
        dict(document), sort_keys=True, allow_unicode=True, default_flow_style=False
    ).rstrip("\n")


def parameter_document(
    parameters: Mapping[str, Any], secrets: Mapping[str, Any], fmt: ParameterFormat
) -> bytes:
    """The exact bytes written to stdin or to the parameter file: the merged document in
    ``fmt`` followed by one newline (api-contract.md)."""
    return (format_parameters(merge_secrets(parameters, secrets), fmt) + "\n").encode()


def _assignment_lines(parameters: Mapping[str, Any], secrets: Mapping[str, Any]) -> Iterator[str]:
    for name in sorted(secrets):
        identifier = shell_identifier(name)
        if not _is_reserved(identifier):
            yield f"{identifier}={shell_quote(scalar_text(secrets[name]))}"
    for name in sorted(parameters):
        identifier = shell_identifier(name)
        quoted = shell_quote(scalar_text(parameters[name]))
        if not _is_reserved(identifier):
            yield f"{identifier}={quoted}"
        yield f"PARAM_{identifier.upper()}={quoted}"


def build_inline_script(
    script: str, parameters: Mapping[str, Any], secrets: Mapping[str, Any]
) -> str:
    """The bash program of an ad-hoc ``core.shell`` action.

    ``set -e``, then one non-exported assignment per secret (identifier-safe name), then per
    parameter ``<name>='<value>'`` and ``PARAM_<NAME>='<value>'``, then the script text. A
    parameter assigned after a secret of the same name wins.

    Args:
        script: The action's entrypoint text.
        parameters: The execution's parameters.
        secrets: Keys made available to the action, by key name.

    Returns:
        The complete script, ending with a newline.
    """
    lines = ["set -e", *_assignment_lines(parameters, secrets), script]
    text = "\n".join(lines)
    return text if text.endswith("\n") else text + "\n"
