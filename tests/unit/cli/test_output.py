"""Table cells, JSON/YAML rendering."""

from __future__ import annotations

import pytest

from attune_cli.output import dump, short


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (True, "true"),
        ("2026-11-26T23:00:00.123456+00:00", "2026-11-26 23:00:00"),
        ("2026-11-26T23:00:00Z", "2026-11-26 23:00:00"),
        ({"a": [1, 2]}, '{"a":[1,2]}'),
        ("two\nlines", "two\\nlines"),
        ("x" * 100, "x" * 57 + "..."),
    ],
)
def test_cells(value: object, cell: str) -> None:
    assert short(value) == cell


def test_yaml_shows_multi_line_strings_as_blocks() -> None:
    assert dump({"stdout": "a\nb\n"}, "yaml") == "stdout: |\n  a\n  b"
    assert dump({"n": 1}, "json") == '{\n  "n": 1\n}'
