"""Captured output and the ``execution.result`` document: pure functions over bytes and text.

Rules of this file:

1. A capture keeps at most its cap in memory and only counts the rest, so an action printing
   100 MB costs the cap, not 100 MB. Truncated text ends with a visible marker.
2. Bytes are decoded as UTF-8 with ``errors="replace"``: binary output never raises.
3. The result shapes are exactly api-contract.md's; the only additions are the optional keys
   documented in docs/actions.md (``parse_error``, ``stdout_truncated``, ``stderr_log``).
4. Parsing declared output never turns a successful run into a failure: a parse error leaves
   ``succeeded`` true, omits ``data`` and says why in ``parse_error``.
5. Secret values never leave a run: :func:`mask_text` and :func:`mask_value` replace every
   occurrence of the run's secret strings (:func:`secret_needles`) with ``********`` in the
   captured text, the log files and the result, including parsed ``data``.
6. Output handed out while the process runs (:class:`LiveText`) is masked too, and a secret
   split across two reads of the pipe is still found: a tail that may be the beginning of a
   secret (at most ``len(longest secret) - 1`` characters) is held back until more text
   arrives, and a piece never ends inside a secret.
"""

from __future__ import annotations

import codecs
import json
import signal
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from attune_core.model import LogChunk, OutputFormat
from attune_core.schema import SECRET_MASK, mask_secrets

__all__ = [
    "MIN_MASKED_LENGTH",
    "LiveText",
    "OutputCapture",
    "failure_error",
    "failure_result",
    "mask_text",
    "mask_value",
    "parse_output",
    "secret_needles",
    "secret_parameter_values",
    "success_result",
]

# Secret strings shorter than this are not searched for in output: replacing every "on" or "42"
# an action prints would garble its output while hiding next to nothing. They are still never
# put in the environment and are masked wherever parameters are shown (docs/keys.md).
MIN_MASKED_LENGTH = 4

# A failure's ``error`` is one line meant for lists and notifications; a 10 MiB single-line
# stderr must not become a 10 MiB error message.
_MAX_ERROR_CHARS = 2000


class OutputCapture:
    """The first ``cap`` bytes of a stream, plus a count of everything that went by."""

    def __init__(self, name: str, cap: int) -> None:
        self.name = name
        self.cap = max(0, cap)
        self.total = 0
        self._chunks: list[bytes] = []
        self._kept = 0

    def feed(self, chunk: bytes) -> None:
        """Account for ``chunk``; keep the part that still fits under the cap."""
        self.total += len(chunk)
        room = self.cap - self._kept
        if room <= 0:
            return
        kept = chunk if len(chunk) <= room else chunk[:room]
        self._chunks.append(kept)
        self._kept += len(kept)

    def kept_since(self, mark: int) -> tuple[bytes, int]:
        """The kept bytes fed after ``mark`` (0 at first, then the mark this returned)."""
        return b"".join(self._chunks[mark:]), len(self._chunks)

    @property
    def truncated(self) -> bool:
        """True when more bytes arrived than the cap allows."""
        return self.total > self.cap

    @property
    def kept_bytes(self) -> bytes:
        """The bytes kept, without any marker."""
        return b"".join(self._chunks)

    def text(self) -> str:
        """The kept bytes decoded, with the truncation marker when bytes were dropped."""
        text = self.kept_bytes.decode("utf-8", errors="replace")
        if self.truncated:
            dropped = self.total - self.cap
            text += (
                f"\n[attune: {self.name} truncated at {self.cap} bytes,"
                f" {dropped} more bytes not kept]\n"
            )
        return text


def _parse_json(text: str) -> Any:
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as whole_error:
        # Actions often log a few lines before printing their JSON result; the last
        # non-blank line is accepted as the document when the whole output is not one.
        lines = [line for line in stripped.splitlines() if line.strip()]
        if len(lines) > 1:
            try:
                return json.loads(lines[-1])
            except json.JSONDecodeError:
                pass
        raise ValueError(f"stdout is not valid JSON: {whole_error}") from None


def _parse_jsonl(text: str) -> list[Any]:
    items: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"stdout line {number} is not valid JSON: {exc}") from None
    return items


def parse_output(
    stdout: str, output_format: OutputFormat, *, truncated: bool = False
) -> tuple[bool, Any, str | None]:
    """Parse stdout per the declared ``output_format``.

    Args:
        stdout: The captured stdout, without truncation marker.
        output_format: The action's ``output_format``.
        truncated: True when stdout went over its cap (it is then not parsed).

    Returns:
        ``(has_data, data, parse_error)``. ``text`` output and empty output have no data and no
        error; a parse failure has no data and an error message.
    """
    if output_format is OutputFormat.TEXT or not stdout.strip():
        return False, None, None
    if truncated:
        return False, None, f"stdout exceeded its size limit; {output_format} output not parsed"
    try:
        if output_format is OutputFormat.JSON:
            return True, _parse_json(stdout), None
        if output_format is OutputFormat.JSONL:
            return True, _parse_jsonl(stdout), None
        return True, yaml.safe_load(stdout), None
    except ValueError as exc:
        return False, None, str(exc)
    except yaml.YAMLError as exc:
        return False, None, f"stdout is not valid YAML: {exc}"


def success_result(
    *,
    duration_ms: int,
    stdout: str,
    stdout_truncated: bool,
    has_data: bool,
    data: Any,
    parse_error: str | None,
    stderr_log: str | None,
) -> dict[str, Any]:
    """The result of a run that exited 0."""
    result: dict[str, Any] = {
        "exit_code": 0,
        "duration_ms": duration_ms,
        "succeeded": True,
        "stdout": stdout,
    }
    if stdout_truncated:
        result["stdout_truncated"] = True
    if stderr_log is not None:
        result["stderr_log"] = stderr_log
    if has_data:
        result["data"] = data
    if parse_error is not None:
        result["parse_error"] = parse_error
    return result


def failure_error(exit_code: int, stderr: str) -> str:
    """The ``error`` of a non-zero exit: the last non-blank stderr line, else the exit code."""
    for line in reversed(stderr.splitlines()):
        line = line.strip()
        if line:
            return line[:_MAX_ERROR_CHARS]
    if exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        return f"Command was killed by {name} (exit code {exit_code})"
    return f"Command exited with code {exit_code}"


def failure_result(
    *,
    exit_code: int | None,
    duration_ms: int,
    error: str,
    stdout: str = "",
    stdout_truncated: bool = False,
    stderr_log: str | None = None,
) -> dict[str, Any]:
    """The result of a run that failed, timed out, was cancelled or could not start."""
    result: dict[str, Any] = {
        "succeeded": False,
        "exit_code": exit_code,
        "duration_ms": duration_ms,
        "error": error,
    }
    if stdout:
        result["stdout"] = stdout
    if stdout_truncated:
        result["stdout_truncated"] = True
    if stderr_log is not None:
        result["stderr_log"] = stderr_log
    return result


def _leaves(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        yield json.dumps(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)


def secret_needles(values: Iterable[Any]) -> tuple[str, ...]:
    """The strings to hide for the secret ``values`` (any JSON): every string or number inside
    them of at least :data:`MIN_MASKED_LENGTH` characters, plus its JSON-escaped form (what a
    JSON document printed by the action contains), longest first so that a secret containing
    another is hidden whole."""
    needles: set[str] = set()
    for value in values:
        for leaf in _leaves(value):
            if len(leaf) >= MIN_MASKED_LENGTH:
                needles.add(leaf)
                needles.add(json.dumps(leaf, ensure_ascii=False)[1:-1])
                needles.add(json.dumps(leaf)[1:-1])
    return tuple(sorted(needles, key=lambda n: (-len(n), n)))


def secret_parameter_values(
    schema: Mapping[str, Any] | None, parameters: Mapping[str, Any]
) -> list[Any]:
    """The values of the parameters ``schema`` marks ``secret`` (nested ones included)."""
    found: list[Any] = []

    def walk(original: Any, masked: Any) -> None:
        if masked == SECRET_MASK and original != SECRET_MASK:
            found.append(original)
        elif isinstance(original, Mapping) and isinstance(masked, Mapping):
            for name, value in original.items():
                walk(value, masked.get(name))
        elif isinstance(original, list) and isinstance(masked, list):
            for item, masked_item in zip(original, masked, strict=False):
                walk(item, masked_item)

    walk(dict(parameters), mask_secrets(schema, dict(parameters)))
    return found


def mask_text(text: str, needles: Iterable[str]) -> str:
    """``text`` with every occurrence of each needle replaced by ``********``."""
    for needle in needles:
        if needle in text:
            text = text.replace(needle, SECRET_MASK)
    return text


def mask_value(value: Any, needles: tuple[str, ...]) -> Any:
    """A copy of the JSON ``value`` with :func:`mask_text` applied to every string in it (object
    keys included)."""
    if not needles:
        return value
    if isinstance(value, str):
        return mask_text(value, needles)
    if isinstance(value, Mapping):
        return {mask_text(str(k), needles): mask_value(v, needles) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(item, needles) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = json.dumps(value)
        return SECRET_MASK if text in needles else value
    return value


class LiveText:
    """The masked text of a capture, handed out piece by piece while the process runs.

    Each :meth:`take` returns the text kept since the previous one (decoded incrementally, so a
    UTF-8 character split across reads is whole), masked, minus a held-back tail that may be
    the beginning of a secret (rule 6). Pieces concatenate to the stream's text: a piece's
    ``position`` is the number of characters handed out before it.
    """

    def __init__(self, capture: OutputCapture, needles: tuple[str, ...]) -> None:
        self._capture = capture
        self._needles = needles
        self._hold = max((len(n) for n in needles), default=1) - 1
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._mark = 0
        self._pending = ""
        self.position = 0

    def take(self) -> LogChunk | None:
        """The masked text ready to hand out, or ``None`` when there is none yet."""
        new, self._mark = self._capture.kept_since(self._mark)
        if new:
            self._pending += self._decoder.decode(new)
        cut = _safe_cut(self._pending, self._held_from(), self._needles)
        if cut <= 0:
            return None
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        text = mask_text(ready, self._needles)
        chunk = LogChunk(self._capture.name, self.position, text)
        self.position += len(text)
        return chunk

    def _held_from(self) -> int:
        """Where the tail that could begin a secret starts (the text's end when none could)."""
        text = self._pending
        for start in range(max(0, len(text) - self._hold), len(text)):
            tail = text[start:]
            if any(needle.startswith(tail) for needle in self._needles):
                return start
        return len(text)


def _safe_cut(text: str, cut: int, needles: tuple[str, ...]) -> int:
    """``cut``, moved back until no occurrence of a needle straddles it.

    Only occurrences starting before ``cut`` matter, and the held-back tail guarantees those
    end inside ``text``: an occurrence starting within ``len(needle) - 1`` characters before
    the cut straddles it, and the cut moves to its start (which may expose another).
    """
    moved = True
    while moved and cut > 0:
        moved = False
        for needle in needles:
            start = text.find(needle, max(0, cut - len(needle) + 1), cut + len(needle) - 1)
            if 0 <= start < cut:
                cut = start
                moved = True
    return cut
