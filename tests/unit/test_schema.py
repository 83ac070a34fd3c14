"""Flat parameter schemas: checking schemas, validating values, defaults, legacy form, secrets."""

from __future__ import annotations

from typing import Any

import pytest

from attune_core.errors import ValidationError
from attune_core.schema import (
    SECRET_MASK,
    ParameterProblem,
    ParameterValidationError,
    SchemaError,
    SchemaProblem,
    apply_defaults,
    check_schema,
    is_legacy_schema,
    mask_secrets,
    normalize_schema,
    parameter_problems,
    secret_fields,
    to_json_schema,
    validate_parameters,
    validate_schema,
)

SCHEMA: dict[str, Any] = {
    "url": {"type": "string", "required": True, "description": "Where to go"},
    "retries": {"type": "integer", "default": 3, "minimum": 0, "maximum": 10},
    "token": {"type": "string", "secret": True, "minLength": 8},
    "mode": {"type": "string", "enum": ["fast", "safe"]},
    "ratio": {"type": "number"},
    "verbose": {"type": "boolean", "default": False},
    "tags": {"type": "array", "items": {"type": "string"}},
    "db": {
        "type": "object",
        "properties": {
            "host": {"type": "string", "required": True},
            "port": {"type": "integer", "default": 5432},
            "password": {"type": "string", "secret": True},
        },
    },
    "anything": {"type": "any"},
}


def test_a_good_schema_has_no_problems() -> None:
    assert check_schema(SCHEMA) == []
    assert check_schema(None) == []
    assert check_schema({}) == []


def test_values_get_defaults_and_pass() -> None:
    values = validate_parameters(SCHEMA, {"url": "https://x", "db": {"host": "h"}})
    assert values == {
        "url": "https://x",
        "retries": 3,
        "verbose": False,
        "db": {"host": "h", "port": 5432},
    }


def test_every_problem_is_reported_with_its_field() -> None:
    with pytest.raises(ParameterValidationError) as caught:
        validate_parameters(
            SCHEMA,
            {
                "retries": 11,
                "mode": "slow",
                "ratio": "half",
                "verbose": "yes",
                "tags": ["a", 2],
                "db": {"port": "x"},
            },
        )
    assert [str(p) for p in caught.value.problems] == [
        "db.host: is required",
        "db.port: expected integer, got string",
        "mode: must be one of 'fast', 'safe' (got 'slow')",
        "ratio: expected number, got string",
        "retries: must be <= 10 (got 11)",
        "tags[1]: expected string, got integer",
        "url: is required",
        "verbose: expected boolean, got string",
    ]
    assert isinstance(caught.value, ValidationError)
    assert caught.value.field == "db.host"
    assert caught.value.details[0] == {"field": "db.host", "message": "is required"}
    assert str(caught.value).startswith("invalid parameters: db.host: is required; ")


def test_a_secret_value_never_appears_in_a_message() -> None:
    _, problems = parameter_problems(
        SCHEMA, {"url": "u", "token": "hunter2", "db": {"host": "h", "password": 12345}}
    )
    assert problems == [
        ParameterProblem("db.password", "expected string, got integer"),
        ParameterProblem("token", "must be at least 8 characters long"),
    ]
    assert not any("hunter2" in str(p) or "12345" in str(p) for p in problems)


def test_none_means_not_given_for_optional_and_missing_for_required() -> None:
    values, problems = parameter_problems(SCHEMA, {"url": None, "retries": None, "mode": None})
    assert values["retries"] == 3
    assert values["mode"] is None
    assert problems == [ParameterProblem("url", "is required (got null)")]


def test_booleans_are_not_integers_and_integral_floats_are() -> None:
    schema = {"n": {"type": "integer"}}
    assert parameter_problems(schema, {"n": True})[1] == [
        ParameterProblem("n", "expected integer, got boolean")
    ]
    assert parameter_problems(schema, {"n": 3.0})[1] == []


def test_unknown_parameters_are_kept_unless_forbidden() -> None:
    assert validate_parameters({"a": {"type": "string"}}, {"b": 1}) == {"b": 1}
    _, problems = parameter_problems({"a": {"type": "string"}}, {"b": 1}, allow_unknown=False)
    assert problems == [ParameterProblem("b", "unknown parameter")]


def test_values_must_be_an_object() -> None:
    assert parameter_problems(SCHEMA, ["x"])[1] == [
        ParameterProblem("", "must be an object, not array")
    ]
    assert validate_parameters({}, None) == {}


def test_defaults_are_copies() -> None:
    schema = {"opts": {"type": "object", "default": {"a": []}}}
    first = apply_defaults(schema, {})
    first["opts"]["a"].append(1)
    assert apply_defaults(schema, {}) == {"opts": {"a": []}}


def test_secret_fields_and_masking() -> None:
    assert secret_fields(SCHEMA) == ["token", "db.password"]
    original = {"url": "u", "token": "hunter2", "db": {"host": "h", "password": "pw"}}
    masked = mask_secrets(SCHEMA, original)
    assert masked == {
        "url": "u",
        "token": SECRET_MASK,
        "db": {"host": "h", "password": SECRET_MASK},
    }
    assert original["token"] == "hunter2"  # the input is untouched
    assert mask_secrets(SCHEMA, {"token": None}) == {"token": None}
    assert mask_secrets(SCHEMA, "not a mapping") == "not a mapping"


def test_masking_inside_arrays() -> None:
    schema = {
        "keys": {"type": "array", "items": {"type": "string", "secret": True}},
        "users": {
            "type": "array",
            "items": {"type": "object", "properties": {"pw": {"type": "string", "secret": True}}},
        },
    }
    masked = mask_secrets(schema, {"keys": ["a", "b"], "users": [{"name": "x", "pw": "y"}]})
    assert masked == {
        "keys": [SECRET_MASK, SECRET_MASK],
        "users": [{"name": "x", "pw": SECRET_MASK}],
    }


# -- schemas themselves ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ("nope", [SchemaProblem("", "must be a map of name: {type, ...}, not string")]),
        ({"a": "string"}, [SchemaProblem("a", "must be a map (type, required, ...), not string")]),
        (
            {"a": {"type": "str"}},
            [
                SchemaProblem(
                    "a.type",
                    "unknown type 'str' (one of any, array, boolean, integer, number, object, "
                    "string)",
                )
            ],
        ),
        ({"a": {"required": "yes"}}, [SchemaProblem("a.required", "must be true or false")]),
        ({"a": {"secret": 1}}, [SchemaProblem("a.secret", "must be true or false")]),
        ({"a": {"enum": []}}, [SchemaProblem("a.enum", "must be a non-empty list of values")]),
        ({"a": {"minimum": "0"}}, [SchemaProblem("a.minimum", "must be a number")]),
        (
            {"a": {"maxLength": -1}},
            [SchemaProblem("a.maxLength", "must be a non-negative integer")],
        ),
        (
            {"a": {"type": "integer", "minimum": 3, "maximum": 1}},
            [SchemaProblem("a.minimum", "minimum 3 is greater than maximum 1")],
        ),
        (
            {"a": {"type": "integer", "default": "x"}},
            [SchemaProblem("a.default", "default expected integer, got string")],
        ),
        (
            {"a": {"type": "array", "items": "string"}},
            [SchemaProblem("a.items", "must be a map (type, ...)")],
        ),
        (
            {"a": {"type": "object", "properties": {"b": {"type": "nope"}}}},
            [
                SchemaProblem(
                    "a.properties.b.type",
                    "unknown type 'nope' (one of any, array, boolean, integer, number, object, "
                    "string)",
                )
            ],
        ),
    ],
)
def test_schema_problems(schema: Any, expected: list[SchemaProblem]) -> None:
    assert check_schema(schema) == expected


def test_a_bad_regex_is_a_problem() -> None:
    (problem,) = check_schema({"a": {"type": "string", "pattern": "("}})
    assert problem.path == "a.pattern"
    assert problem.message.startswith("invalid regex")


def test_template_defaults_are_checked_when_rendered() -> None:
    assert check_schema({"n": {"type": "integer", "default": "{{ config.n }}"}}) == []


def test_validate_schema_raises_with_every_problem() -> None:
    with pytest.raises(SchemaError) as caught:
        validate_schema({"a": {"type": "x"}, "b": {"secret": "no"}}, what="param_schema")
    assert [p.path for p in caught.value.problems] == ["a.type", "b.secret"]
    assert str(caught.value).startswith("invalid param_schema: a.type: unknown type 'x'")


# -- legacy JSON Schema ----------------------------------------------------------------------

LEGACY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "url": {"type": "string"},
        "server": {
            "type": "object",
            "properties": {"host": {"type": "string"}, "port": {"type": "integer"}},
            "required": ["host"],
        },
        "level": {"type": ["string", "null"], "enum": ["info", "debug"]},
    },
    "required": ["url"],
}


def test_legacy_schema_is_recognised_and_converted() -> None:
    assert is_legacy_schema(LEGACY)
    assert is_legacy_schema({"properties": {"a": {"type": "string"}}})
    assert not is_legacy_schema(SCHEMA)
    # A flat parameter that happens to be called "type" or "properties" is still flat.
    assert not is_legacy_schema({"type": {"type": "string"}, "properties": {"type": "object"}})
    assert normalize_schema(LEGACY) == {
        "url": {"type": "string", "required": True},
        "server": {
            "type": "object",
            "properties": {
                "host": {"type": "string", "required": True},
                "port": {"type": "integer"},
            },
        },
        "level": {"type": ["string", "null"], "enum": ["info", "debug"]},
    }
    assert check_schema(LEGACY) == []


def test_legacy_schema_validates_like_its_flat_form() -> None:
    _, problems = parameter_problems(LEGACY, {"server": {"port": 1}, "level": "trace"})
    assert [str(p) for p in problems] == [
        "level: must be one of 'info', 'debug' (got 'trace')",
        "server.host: is required",
        "url: is required",
    ]


def test_json_schema_conversion() -> None:
    converted = to_json_schema(
        {
            "a": {"type": "string", "required": True, "secret": True},
            "b": {"type": "integer", "enum": [1, 2], "position": 3},
        }
    )
    assert converted == {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {"type": ["integer", "null"], "enum": [1, 2, None]},
        },
        "required": ["a"],
    }
