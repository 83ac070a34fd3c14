"""k=v parameters are typed by the action's schema; k:=json is always JSON."""

from __future__ import annotations

import click
import pytest

from attune_cli.app import parse_assignments

SCHEMA = {
    "count": {"type": "integer"},
    "ratio": {"type": "number"},
    "dry_run": {"type": "boolean"},
    "hosts": {"type": "array"},
    "extra": {"type": "object"},
    "name": {"type": "string"},
}


def test_values_take_the_type_the_schema_declares() -> None:
    params = parse_assignments(
        ["count=3", "ratio=0.5", "dry_run=yes", "hosts=a, b", 'extra={"k": 1}', "name=42"],
        schema=SCHEMA,
    )
    assert params == {
        "count": 3,
        "ratio": 0.5,
        "dry_run": True,
        "hosts": ["a", "b"],
        "extra": {"k": 1},
        "name": "42",
    }


def test_json_schema_properties_are_understood_too() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    assert parse_assignments(["n=7"], schema=schema) == {"n": 7}


def test_undeclared_names_stay_strings_and_values_may_hold_equals_signs() -> None:
    assert parse_assignments(["query=a=b", "empty="]) == {"query": "a=b", "empty": ""}


def test_colon_equals_is_raw_json_and_words_override_the_base() -> None:
    params = parse_assignments(["n:=[1, 2]", "b:=null", "x=2"], base={"x": 1, "y": 2})
    assert params == {"n": [1, 2], "b": None, "x": "2", "y": 2}


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("novalue", "parameters are written name=value"),
        ("count=many", "not a integer"),
        ("dry_run=maybe", "not a boolean"),
        ("extra=[", "not a JSON object"),
        ("n:={", "must be JSON"),
    ],
)
def test_bad_words_are_usage_errors(word: str, message: str) -> None:
    with pytest.raises(click.BadParameter, match=message):
        parse_assignments([word], schema=SCHEMA)
