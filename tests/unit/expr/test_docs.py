"""Every example in the tables of docs/expressions.md evaluates to the result written there.

A table row whose last two cells are code spans is an example: the first is an expression
(or, in a table headed "template", a JSON string rendered as a template) and the second is its
result as JSON, or ``error: <start of the message>``. The context is the JSON block of the
page, plus the workflow functions described there.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from attune_core.expr import ExpressionError, MappingContext, evaluate, render

DOC = Path(__file__).resolve().parents[3] / "docs" / "expressions.md"
TEXT = DOC.read_text(encoding="utf-8")
CONTEXT_JSON = re.search(r"```json\n(.*?)```", TEXT, re.DOTALL)
assert CONTEXT_JSON is not None
CONTEXT = MappingContext(
    json.loads(CONTEXT_JSON.group(1)),
    {
        "result": lambda: {"code": 200, "status": "ok"},
        "succeeded": lambda: True,
        "failed": lambda: False,
        "timed_out": lambda: False,
    },
)


def _code(cell: str) -> str | None:
    cell = cell.strip()
    if len(cell) >= 2 and cell[0] == "`" and cell[-1] == "`" and "`" not in cell[1:-1]:
        return cell[1:-1]
    return None


def _examples() -> list[tuple[str, str, bool]]:
    examples: list[tuple[str, str, bool]] = []
    lines = TEXT.splitlines()
    header = ""
    for number, line in enumerate(lines):
        if not line.startswith("|"):
            continue
        cells = line.strip().strip("|").split("|")
        if number + 1 < len(lines) and lines[number + 1].startswith("| ---"):
            header = cells[0].strip()
            continue
        if len(cells) < 2:
            continue
        source = _code(cells[-2])
        result = _code(cells[-1])
        if source is not None and result is not None:
            examples.append((source, result, header == "template"))
    return examples


EXAMPLES = _examples()


def same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return math.isclose(a, b)
    return bool(a == b)


def test_the_page_has_examples_for_every_operator_and_function() -> None:
    assert len(EXAMPLES) > 150
    sources = " ".join(source for source, _, _ in EXAMPLES)
    for function in (
        *("string", "number", "int", "bool", "type_of", "length", "keys", "values", "abs"),
        *("floor", "ceil", "round", "min", "max", "sum", "lower", "upper", "trim", "split"),
        *("join", "replace", "starts_with", "ends_with", "match", "contains", "reversed"),
        *("sort", "unique", "flat", "zip", "range", "slice", "index_of", "count", "merge"),
        *("chunks", "result", "succeeded", "failed", "timed_out"),
    ):
        assert f"{function}(" in sources, function
    for operator in (
        " or ", " and ", "not ", "==", "!=", " < ", " > ", "<=", ">=", " in ", " + ", " - ",
        " * ", " / ", " % ", "-parameters", "[0]", "[-1]", ".0",
    ):  # fmt: skip
        assert operator in sources, operator


@pytest.mark.parametrize(("source", "expected", "is_template"), EXAMPLES)
def test_documented_example(source: str, expected: str, is_template: bool) -> None:
    text = json.loads(source) if is_template else source

    def run() -> Any:
        return render(text, CONTEXT) if is_template else evaluate(text, CONTEXT)

    if expected.startswith("error: "):
        with pytest.raises(ExpressionError) as info:
            run()
        assert info.value.message.startswith(expected.removeprefix("error: "))
    else:
        assert same(run(), json.loads(expected))
