"""Flat parameter schemas: validation of the schemas themselves, of values against them, secrets.

Every schema in Attune (an action's ``param_schema`` and ``out_schema``, a trigger's, a pack's
``conf_schema``, an inquiry's ``response_schema``) uses the *flat* format, with ``required`` and
``secret`` inline per parameter::

    {"url":     {"type": "string", "required": True},
     "retries": {"type": "integer", "default": 3, "minimum": 0, "maximum": 10},
     "token":   {"type": "string", "secret": True}}

Rules of this file:

1. The flat format is the only one stored and shown. A legacy JSON-Schema-shaped schema
   (``{type: object, properties: {...}, required: [...]}``) is accepted on input and converted
   by :func:`normalize_schema`; nothing else in Attune needs to know the legacy shape existed.
2. JSON Schema is an implementation detail: :func:`to_json_schema` converts, the maintained
   ``jsonschema`` library validates, and every problem it reports is rewritten here into a
   message that names the field (``servers[0].port: expected integer, got string``).
3. Report everything. Validation never stops at the first problem: a caller fixes its input in
   one pass. The error classes carry the full list.
4. A secret value never appears in a message. Problems about a secret field describe the rule
   that failed, not the value, and :func:`mask_secrets` replaces secret values with
   :data:`SECRET_MASK` wherever values are shown.
5. ``None`` for an optional parameter means "not given": it passes validation and its default,
   if any, applies. A required parameter that is missing or ``None`` is a problem.
6. Pure functions over plain data; no I/O, no logging.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
import jsonschema
import orjson
from jsonschema import Draft202012Validator

from attune_core.errors import ValidationError

__all__ = [
    "FLAT_TYPES",
    "SECRET_MASK",
    "ParameterProblem",
    "ParameterValidationError",
    "SchemaError",
    "SchemaProblem",
    "apply_defaults",
    "check_schema",
    "is_legacy_schema",
    "mask_secrets",
    "normalize_schema",
    "parameter_problems",
    "secret_fields",
    "to_json_schema",
    "validate_parameters",
    "validate_schema",
]

FLAT_TYPES = frozenset({"string", "integer", "number", "boolean", "array", "object", "any"})
SECRET_MASK = "********"

# Keywords copied as they are from a flat parameter into its JSON Schema. Flat-only keys
# (required, secret) and presentation keys (position, immutable, label, placeholder...) are not
# JSON Schema and are left out.
_PASSTHROUGH = frozenset(
    {
        "enum",
        "const",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "additionalProperties",
    }
)
_NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_COUNT_KEYS = ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties")
# Keys that mark a mapping as a parameter spec rather than a map of parameters; used to tell a
# legacy ``properties:`` block from a flat parameter that happens to be named "properties".
_SPEC_KEYS = frozenset({"type", "required", "secret", "default", "description", "enum"})
_JSON_TYPE_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


# ---------------------------------------------------------------------------------------------
# Problems and errors


@attrs.frozen
class SchemaProblem:
    """One thing wrong with a schema.

    Attributes:
        path: Dotted location inside the schema, e.g. ``retries.minimum`` or
            ``server.properties.port.type``; empty for the schema as a whole.
        message: What is wrong.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@attrs.frozen
class ParameterProblem:
    """One thing wrong with a parameter value.

    Attributes:
        field: The parameter, dotted for nested values (``servers[0].port``); empty when the
            values as a whole are wrong (not an object).
        message: What is wrong, without the value when the field is secret.
    """

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class SchemaError(ValidationError):
    """A schema is invalid. ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[SchemaProblem], *, what: str = "schema") -> None:
        self.problems: tuple[SchemaProblem, ...] = tuple(problems)
        text = "; ".join(str(p) for p in self.problems)
        super().__init__(
            f"invalid {what}: {text}",
            field=self.problems[0].path if self.problems else None,
            details=[attrs.asdict(p) for p in self.problems],
        )


class ParameterValidationError(ValidationError):
    """Values do not satisfy their schema. ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[ParameterProblem], *, what: str = "parameters") -> None:
        self.problems: tuple[ParameterProblem, ...] = tuple(problems)
        text = "; ".join(str(p) for p in self.problems)
        super().__init__(
            f"invalid {what}: {text}",
            field=self.problems[0].field if self.problems else None,
            details=[attrs.asdict(p) for p in self.problems],
        )


# ---------------------------------------------------------------------------------------------
# Legacy JSON Schema -> flat


def is_legacy_schema(schema: Any) -> bool:
    """Tell whether ``schema`` is JSON-Schema shaped (``{type: object, properties, required}``).

    A flat schema maps parameter names to specs (mappings), so a top-level ``type`` that is a
    string, a ``required`` that is a list, or ``$schema`` can only be JSON Schema. A lone
    ``properties`` mapping counts as legacy when its values look like parameter maps rather
    than like one parameter spec.
    """
    if not isinstance(schema, Mapping):
        return False
    if isinstance(schema.get("type"), str) or isinstance(schema.get("required"), list):
        return True
    if "$schema" in schema:
        return True
    props = schema.get("properties")
    return (
        isinstance(props, Mapping)
        and bool(props)
        and all(isinstance(v, Mapping) for v in props.values())
        and not (set(props) & _SPEC_KEYS)
    )


def normalize_schema(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return ``schema`` in flat form (legacy JSON Schema converted; ``None`` -> ``{}``).

    The result is a new dict; nested ``properties`` and ``items`` are normalised too. Values
    that are not mappings are left for :func:`check_schema` to report.
    """
    if schema is None:
        return {}
    if is_legacy_schema(schema):
        props = schema.get("properties")
        required = schema.get("required")
        return _flatten_properties(
            props if isinstance(props, Mapping) else {},
            required if isinstance(required, list) else [],
        )
    return {
        name: _normalize_spec(spec) if isinstance(spec, Mapping) else spec
        for name, spec in schema.items()
    }


def _flatten_properties(props: Mapping[str, Any], required: Sequence[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in props.items():
        if not isinstance(spec, Mapping):
            out[name] = spec
            continue
        flat = _normalize_spec(spec)
        if name in required:
            flat["required"] = True
        out[name] = flat
    return out


def _normalize_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    flat = dict(spec)
    nested_required = flat.get("required")
    if isinstance(nested_required, list):
        # JSON Schema style inside a flat parameter: the list names required children; the
        # parameter itself is optional.
        del flat["required"]
        props = flat.get("properties")
        if isinstance(props, Mapping):
            flat["properties"] = _flatten_properties(props, nested_required)
    elif isinstance(flat.get("properties"), Mapping):
        flat["properties"] = normalize_schema(flat["properties"])
    items = flat.get("items")
    if isinstance(items, Mapping):
        flat["items"] = _normalize_spec(items)
    return flat


# ---------------------------------------------------------------------------------------------
# Checking a schema


def check_schema(schema: Any) -> list[SchemaProblem]:
    """List every problem of a schema (flat or legacy); an empty list means it is valid.

    Checked: the shape (a map of name -> spec), type names, ``required``/``secret`` flags,
    ``enum`` lists, numeric bounds and their order, length/count keywords, ``pattern`` regexes,
    nested ``items``/``properties``, and that every ``default`` satisfies its own parameter
    (a default containing ``{{`` is a template and is checked only when rendered).
    """
    if schema is None:
        return []
    if not isinstance(schema, Mapping):
        return [SchemaProblem("", f"must be a map of name: {{type, ...}}, not {_kind(schema)}")]
    problems: list[SchemaProblem] = []
    if is_legacy_schema(schema):
        props = schema.get("properties", {})
        if not isinstance(props, Mapping):
            return [SchemaProblem("properties", f"must be a map, not {_kind(props)}")]
        required = schema.get("required", [])
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            problems.append(SchemaProblem("required", "must be a list of parameter names"))
        _check_params(props, "properties.", problems)
    else:
        _check_params(schema, "", problems)
    if not problems:
        # Safety net: whatever passed our checks must also be a valid JSON Schema.
        try:
            Draft202012Validator.check_schema(to_json_schema(schema))
        except jsonschema.SchemaError as exc:
            where = ".".join(str(p) for p in exc.absolute_path if p != "properties")
            problems.append(SchemaProblem(where, exc.message))
    return problems


def validate_schema(schema: Any, *, what: str = "schema") -> dict[str, Any]:
    """Check ``schema`` and return it in flat form.

    Raises:
        SchemaError: Listing every problem (``what`` names the schema in the message).
    """
    problems = check_schema(schema)
    if problems:
        raise SchemaError(problems, what=what)
    return normalize_schema(schema)


def _check_params(params: Mapping[Any, Any], prefix: str, problems: list[SchemaProblem]) -> None:
    for name, spec in params.items():
        path = f"{prefix}{name}"
        if not isinstance(name, str) or not name:
            problems.append(SchemaProblem(path, "a parameter name must be a non-empty string"))
            continue
        if not isinstance(spec, Mapping):
            problems.append(
                SchemaProblem(path, f"must be a map (type, required, ...), not {_kind(spec)}")
            )
            continue
        _check_spec(spec, path, problems)


def _check_spec(spec: Mapping[str, Any], path: str, problems: list[SchemaProblem]) -> None:
    before = len(problems)
    kind = spec.get("type")
    kinds = _type_list(kind)
    if kinds is None:
        problems.append(
            SchemaProblem(
                f"{path}.type",
                f"unknown type {kind!r} (one of {', '.join(sorted(FLAT_TYPES))})",
            )
        )
    for flag in ("secret",):
        if flag in spec and not isinstance(spec[flag], bool):
            problems.append(SchemaProblem(f"{path}.{flag}", "must be true or false"))
    required = spec.get("required")
    if required is not None and not isinstance(required, bool):
        nested = isinstance(required, list) and "object" in (kinds or ())
        if not nested:
            problems.append(SchemaProblem(f"{path}.required", "must be true or false"))
    if "description" in spec and not isinstance(spec["description"], str | None):
        problems.append(SchemaProblem(f"{path}.description", "must be a string"))
    if "enum" in spec and (not isinstance(spec["enum"], list) or not spec["enum"]):
        problems.append(SchemaProblem(f"{path}.enum", "must be a non-empty list of values"))
    for key in _NUMBER_KEYS:
        if key in spec and not _is_number(spec[key]):
            problems.append(SchemaProblem(f"{path}.{key}", "must be a number"))
    low: Any = spec.get("minimum")
    high: Any = spec.get("maximum")
    if _is_number(low) and _is_number(high) and low > high:
        problems.append(
            SchemaProblem(f"{path}.minimum", f"minimum {low} is greater than maximum {high}")
        )
    for key in _COUNT_KEYS:
        if key in spec and not (_is_int(spec[key]) and spec[key] >= 0):
            problems.append(SchemaProblem(f"{path}.{key}", "must be a non-negative integer"))
    if "pattern" in spec:
        pattern = spec["pattern"]
        if not isinstance(pattern, str):
            problems.append(SchemaProblem(f"{path}.pattern", "must be a string"))
        else:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(SchemaProblem(f"{path}.pattern", f"invalid regex: {exc}"))
    if "items" in spec:
        items = spec["items"]
        if isinstance(items, Mapping):
            _check_spec(items, f"{path}.items", problems)
        else:
            problems.append(SchemaProblem(f"{path}.items", "must be a map (type, ...)"))
    if "properties" in spec:
        props = spec["properties"]
        if isinstance(props, Mapping):
            _check_params(props, f"{path}.properties.", problems)
        else:
            problems.append(SchemaProblem(f"{path}.properties", "must be a map of name: spec"))
    if len(problems) == before and "default" in spec:
        _check_default(spec, path, problems)


def _check_default(spec: Mapping[str, Any], path: str, problems: list[SchemaProblem]) -> None:
    default = spec["default"]
    if default is None or (isinstance(default, str) and "{{" in default):
        return
    single = {"value": {**_normalize_spec(spec), "required": True}}
    validator = Draft202012Validator(to_json_schema(single))
    for error in validator.iter_errors({"value": default}):
        message = _describe(error, secret=bool(spec.get("secret")))
        problems.append(SchemaProblem(f"{path}.default", f"default {message}"))


def _type_list(kind: Any) -> tuple[str, ...] | None:
    """The type names of a spec (``None`` when one is unknown); a missing type means any."""
    if kind is None:
        return ("any",)
    if isinstance(kind, str):
        return (kind,) if kind in FLAT_TYPES else None
    if isinstance(kind, list) and kind and all(isinstance(k, str) for k in kind):
        # JSON Schema's list form (["string", "null"]) turns up in legacy schemas.
        return tuple(kind) if all(k in FLAT_TYPES or k == "null" for k in kind) else None
    return None


# ---------------------------------------------------------------------------------------------
# Flat -> JSON Schema


def to_json_schema(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """Convert a schema (flat or legacy) into an equivalent JSON Schema object schema.

    Optional parameters accept ``null`` (rule 5 of this module). Unknown keys are dropped.
    """
    return _object_schema(normalize_schema(schema))


def _object_schema(params: Mapping[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, spec in params.items():
        if not isinstance(spec, Mapping):
            continue
        is_required = spec.get("required") is True
        properties[name] = _property_schema(spec, nullable=not is_required)
        if is_required:
            required.append(name)
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    return out


def _property_schema(spec: Mapping[str, Any], *, nullable: bool) -> dict[str, Any]:
    out: dict[str, Any] = {key: spec[key] for key in _PASSTHROUGH if key in spec}
    kinds = _type_list(spec.get("type")) or ("any",)
    if "any" not in kinds:
        names = [k for k in kinds if k != "null"]
        if nullable or "null" in kinds:
            names.append("null")
        out["type"] = names[0] if len(names) == 1 else names
    if nullable and isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    items = spec.get("items")
    if isinstance(items, Mapping):
        out["items"] = _property_schema(items, nullable=False)
    props = spec.get("properties")
    if isinstance(props, Mapping):
        nested = _object_schema(props)
        out["properties"] = nested["properties"]
        if "required" in nested:
            out["required"] = nested["required"]
    return out


# ---------------------------------------------------------------------------------------------
# Values


def apply_defaults(schema: Mapping[str, Any] | None, values: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``values`` with the defaults of missing (or ``None``) parameters filled in.

    Defaults of nested ``properties`` apply inside object values that are present. Default
    values are copied, so a caller may mutate the result freely.
    """
    return _defaults(normalize_schema(schema), values)


def _defaults(params: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for name, spec in params.items():
        if not isinstance(spec, Mapping):
            continue
        current = out.get(name)
        if current is None and "default" in spec:
            out[name] = copy.deepcopy(spec["default"])
        elif isinstance(current, Mapping) and isinstance(spec.get("properties"), Mapping):
            out[name] = _defaults(spec["properties"], current)
    return out


def parameter_problems(
    schema: Mapping[str, Any] | None,
    values: Any,
    *,
    allow_unknown: bool = True,
) -> tuple[dict[str, Any], list[ParameterProblem]]:
    """Apply defaults and list every problem, without raising.

    Args:
        schema: A flat (or legacy) schema; assumed valid (see :func:`check_schema`).
        values: The values to check; must be a mapping (anything else is one problem).
        allow_unknown: Whether names the schema does not declare are accepted (kept as they
            are). When false, each unknown name is a problem.

    Returns:
        The values with defaults applied, and the problems in field order.
    """
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        return {}, [ParameterProblem("", f"must be an object, not {_json_type(values)}")]
    checker = _checker(schema, allow_unknown)
    completed = _defaults(checker.flat, values)
    problems: list[ParameterProblem] = []
    for error in checker.validator.iter_errors(completed):
        problems.extend(_problems_of(error, checker.secrets))
    problems.sort(key=lambda p: p.field)
    return completed, problems


@attrs.frozen
class _Checker:
    """A schema made ready to check values against: what every execution of an action needs."""

    flat: Mapping[str, Any]
    validator: Draft202012Validator
    secrets: frozenset[str]


_CHECKERS: dict[tuple[bytes, bool], _Checker] = {}
_CHECKERS_KEPT = 1024  # distinct schemas remembered (actions and workflows of loaded packs)


def _checker(schema: Mapping[str, Any] | None, allow_unknown: bool) -> _Checker:
    """The checker of ``schema``, built once per distinct schema (keyed by its content, so a
    schema changed in place or re-registered gets its own)."""
    try:
        key = (orjson.dumps(schema, option=orjson.OPT_SORT_KEYS), allow_unknown)
    except TypeError:  # not JSON (a schema built in Python with odd values): not cached
        return _build_checker(schema, allow_unknown)
    checker = _CHECKERS.get(key)
    if checker is None:
        if len(_CHECKERS) >= _CHECKERS_KEPT:
            _CHECKERS.clear()
        checker = _CHECKERS[key] = _build_checker(schema, allow_unknown)
    return checker


def _build_checker(schema: Mapping[str, Any] | None, allow_unknown: bool) -> _Checker:
    flat = normalize_schema(schema)
    json_schema = _object_schema(flat)
    if not allow_unknown:
        json_schema["additionalProperties"] = False
    return _Checker(flat, Draft202012Validator(json_schema), frozenset(secret_fields(flat)))


def validate_parameters(
    schema: Mapping[str, Any] | None,
    values: Any,
    *,
    allow_unknown: bool = True,
    what: str = "parameters",
) -> dict[str, Any]:
    """Validate ``values`` against ``schema`` and return them with defaults applied.

    Raises:
        ParameterValidationError: Listing every problem, each naming its field.
    """
    completed, problems = parameter_problems(schema, values, allow_unknown=allow_unknown)
    if problems:
        raise ParameterValidationError(problems, what=what)
    return completed


def secret_fields(schema: Mapping[str, Any] | None) -> list[str]:
    """The dotted names of the secret parameters, nested ones included (``db.password``)."""
    out: list[str] = []
    _collect_secrets(normalize_schema(schema), "", out)
    return out


def _collect_secrets(params: Mapping[str, Any], prefix: str, out: list[str]) -> None:
    for name, spec in params.items():
        if not isinstance(spec, Mapping):
            continue
        if spec.get("secret") is True:
            out.append(f"{prefix}{name}")
        elif isinstance(spec.get("properties"), Mapping):
            _collect_secrets(spec["properties"], f"{prefix}{name}.", out)


def mask_secrets(schema: Mapping[str, Any] | None, values: Any) -> Any:
    """Return a copy of ``values`` with every secret value replaced by :data:`SECRET_MASK`.

    A secret that is absent or ``None`` stays as it is (there is nothing to hide). Secret
    fields nested in object parameters, and in the objects of array parameters, are masked
    too. ``values`` itself is never modified.
    """
    if not isinstance(values, Mapping):
        return values
    return _mask(normalize_schema(schema), values)


def _mask(params: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for name, spec in params.items():
        if not isinstance(spec, Mapping) or out.get(name) is None:
            continue
        if spec.get("secret") is True:
            out[name] = SECRET_MASK
            continue
        value = out[name]
        props = spec.get("properties")
        items = spec.get("items")
        if isinstance(props, Mapping) and isinstance(value, Mapping):
            out[name] = _mask(props, value)
        elif isinstance(items, Mapping) and isinstance(value, list):
            item_props = items.get("properties")
            if items.get("secret") is True:
                out[name] = [SECRET_MASK if v is not None else None for v in value]
            elif isinstance(item_props, Mapping):
                out[name] = [_mask(item_props, v) if isinstance(v, Mapping) else v for v in value]
    return out


# ---------------------------------------------------------------------------------------------
# Error translation


def _problems_of(
    error: jsonschema.ValidationError, secrets: frozenset[str]
) -> Iterator[ParameterProblem]:
    where = _field(error.absolute_path)
    limit: Any = error.validator_value
    if error.validator == "required":
        present = error.instance if isinstance(error.instance, Mapping) else {}
        for name in limit:
            if name not in present:
                yield ParameterProblem(_join(where, name), "is required")
        return
    if error.validator == "type" and error.instance is None:
        yield ParameterProblem(where, "is required (got null)")
        return
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        declared = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        for name in error.instance:
            if name not in declared:
                yield ParameterProblem(_join(where, str(name)), "unknown parameter")
        return
    secret = _is_secret(where, secrets)
    yield ParameterProblem(where, _describe(error, secret=secret))


def _describe(error: jsonschema.ValidationError, *, secret: bool) -> str:
    """Our words for one jsonschema error; the value is quoted only when it is not secret."""
    keyword, value = error.validator, error.instance
    limit: Any = error.validator_value
    shown = "" if secret else f" (got {_short(value)})"
    if keyword == "type":
        expected = limit if isinstance(limit, str) else " or ".join(str(t) for t in limit)
        expected = expected.replace(" or null", "").replace("null or ", "")
        return f"expected {expected}, got {_json_type(value)}"
    if keyword == "enum":
        options = ", ".join(_short(v) for v in limit if v is not None)
        return f"must be one of {options}{shown}"
    words = {
        "minimum": "must be >= {}",
        "maximum": "must be <= {}",
        "exclusiveMinimum": "must be > {}",
        "exclusiveMaximum": "must be < {}",
        "multipleOf": "must be a multiple of {}",
        "minLength": "must be at least {} characters long",
        "maxLength": "must be at most {} characters long",
        "minItems": "must have at least {} items",
        "maxItems": "must have at most {} items",
        "minProperties": "must have at least {} entries",
        "maxProperties": "must have at most {} entries",
        "pattern": "must match the pattern {!r}",
        "const": "must be {}",
        "format": "must be a valid {}",
    }
    if keyword in words:
        return words[keyword].format(limit) + shown
    if keyword == "uniqueItems":
        return "must not contain duplicate items"
    return f"does not satisfy {keyword!r}" if secret else error.message


def _field(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        out = f"{out}[{part}]" if isinstance(part, int) else _join(out, str(part))
    return out


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _is_secret(field: str, secrets: frozenset[str]) -> bool:
    plain = re.sub(r"\[\d+\]", "", field)
    return any(plain == s or plain.startswith(f"{s}.") for s in secrets)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _kind(value: Any) -> str:
    return _json_type(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
