"""Parameter documents and inline shell scripts (pure text building)."""

from __future__ import annotations

import json

import pytest
import yaml

from attune_core.engine.worker import (
    build_inline_script,
    format_dotenv,
    format_parameters,
    merge_secrets,
    shell_identifier,
    shell_quote,
)
from attune_core.engine.worker._params import parameter_document, scalar_text
from attune_core.model import ParameterFormat


def test_secrets_merge_under_their_names_and_parameters_win() -> None:
    merged = merge_secrets({"token": "from-param", "url": "u"}, {"token": "s1", "db_pw": "s2"})
    assert merged == {"token": "from-param", "url": "u", "db_pw": "s2"}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("raw string", "raw string"),
        (3, "3"),
        (2.5, "2.5"),
        (True, "true"),
        (False, "false"),
        (None, ""),
        ([1, "a"], '[1, "a"]'),
        ({"k": [1]}, '{"k": [1]}'),
    ],
)
def test_scalar_text(value: object, text: str) -> None:
    assert scalar_text(value) == text


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("plain", "'plain'"),
        ("it's", "'it'\\''s'"),
        ("", "''"),
        ('$(rm -rf /) `x` $HOME \\ "', "'$(rm -rf /) `x` $HOME \\ \"'"),
        ("a\nb", "'a\nb'"),
    ],
)
def test_shell_quote(text: str, quoted: str) -> None:
    assert shell_quote(text) == quoted


@pytest.mark.parametrize(
    ("name", "identifier"),
    [
        ("url", "url"),
        ("my-param", "my_param"),
        ("a.b c", "a_b_c"),
        ("9lives", "_9lives"),
        ("", "_"),
    ],
)
def test_shell_identifier(name: str, identifier: str) -> None:
    assert shell_identifier(name) == identifier


def test_dotenv_is_sorted_flattened_and_quoted() -> None:
    document = {
        "zeta": "last",
        "alpha": "it's",
        "nested": {"b": 2, "a": {"deep": True}},
        "list": [1, "two"],
        "empty": {},
        "none": None,
    }
    assert format_dotenv(document) == (
        "alpha='it'\\''s'\n"
        "empty='{}'\n"
        "list='[1, \"two\"]'\n"
        "nested_a_deep='true'\n"
        "nested_b='2'\n"
        "none=''\n"
        "zeta='last'\n"
    )


def test_dotenv_keys_are_shell_identifiers() -> None:
    document = {"a.b": "dotted", "a_b": "exact", "c.d": "x", "9x": 1, "o": {"$(id)": "v"}}
    assert format_dotenv(document) == ("_9x='1'\na_b='exact'\nc_d='x'\no___id_='v'\n")


def test_formats_render_the_same_document() -> None:
    document = {"b": [1, 2], "a": {"x": "y"}}
    assert json.loads(format_parameters(document, ParameterFormat.JSON)) == document
    assert yaml.safe_load(format_parameters(document, ParameterFormat.YAML)) == document
    assert format_parameters(document, ParameterFormat.DOTENV) == "a_x='y'\nb='[1, 2]'"


@pytest.mark.parametrize("fmt", list(ParameterFormat))
def test_parameter_document_ends_with_exactly_one_newline(fmt: ParameterFormat) -> None:
    data = parameter_document({"a": 1}, {"s": "x"}, fmt)
    assert data.endswith(b"\n")
    assert not data.endswith(b"\n\n")


def test_empty_documents() -> None:
    assert parameter_document({}, {}, ParameterFormat.JSON) == b"{}\n"
    assert parameter_document({}, {}, ParameterFormat.DOTENV) == b"\n"
    assert parameter_document({}, {}, ParameterFormat.YAML) == b"{}\n"


def test_inline_script_layout() -> None:
    script = build_inline_script(
        'echo "$name"',
        {"name": "it's", "count": 3, "on": True, "tags": ["a"], "my-param": "x"},
        {"api_key": "s3cr3t"},
    )
    assert script.splitlines() == [
        "set -e",
        "api_key='s3cr3t'",
        "count='3'",
        "PARAM_COUNT='3'",
        "my_param='x'",
        "PARAM_MY_PARAM='x'",
        "name='it'\\''s'",
        "PARAM_NAME='it'\\''s'",
        "on='true'",
        "PARAM_ON='true'",
        "tags='[\"a\"]'",
        "PARAM_TAGS='[\"a\"]'",
        'echo "$name"',
    ]
    assert "export" not in script


def test_inline_script_parameter_wins_over_secret_of_the_same_name() -> None:
    lines = build_inline_script("true", {"token": "param"}, {"token": "secret"}).splitlines()
    assert lines.index("token='secret'") < lines.index("token='param'")


def test_reserved_shell_names_are_only_given_as_param_variables() -> None:
    script = build_inline_script("true", {"PATH": "/evil", "UID": 0, "IFS": ","}, {"HOME": "x"})
    assert script.splitlines() == [
        "set -e",
        "PARAM_IFS=','",
        "PARAM_PATH='/evil'",
        "PARAM_UID='0'",
        "true",
    ]


def test_inline_script_ends_with_a_newline() -> None:
    assert build_inline_script("echo hi", {}, {}) == "set -e\necho hi\n"
    assert build_inline_script("echo hi\n", {}, {}) == "set -e\necho hi\n"
