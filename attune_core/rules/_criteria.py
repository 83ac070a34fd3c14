"""Rule conditions: does an event match a rule?

Rules of this file:

1. Two forms (api-contract.md "Rules"): ``{"expression": "<expr>"}`` (bare or ``{{ }}``), and a
   list of ``{"field", "operator", "value"}`` criteria that are ANDed. ``{}``, ``[]`` and
   ``None`` match everything. The StackStorm mapping form ``{"<field>": {"type", "pattern"}}``
   is read as a list too, so rules written for it keep working.
2. Pure: no I/O, no clock of its own (``now`` is passed in for ``timediff_*``).
3. Bad input never escapes as anything but :class:`RuleError`, whose message says what was
   wrong (an unknown operator, a broken regex, an expression error). The caller records it on
   the enforcement; it never stops the other rules.
4. Regular expressions run on RE2 (linear time), with the expression engine's limits, so a
   hostile pattern cannot stall the engine.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from attune_core.errors import ValidationError
from attune_core.expr import ExpressionError, compile, is_template, render

__all__ = ["OPERATORS", "RuleError", "conditions_match", "resolve_field", "validate_conditions"]

MAX_PATTERN = 1_000  # characters of a regex or wildcard pattern (as the expression engine)
MAX_SUBJECT = 1_048_576  # characters of the text a pattern is matched against
_MISSING: Final = object()


class RuleError(ValidationError):
    """A rule's conditions or action parameters cannot be evaluated (the reason says why)."""


# -- field paths ---------------------------------------------------------------------------------


def resolve_field(event: Mapping[str, Any], field: str) -> Any:
    """The value at ``field`` in the rule's view of an event, or a private missing marker.

    ``field`` is a dotted path: ``payload.severity``, ``event.payload.severity`` (the ``event.``
    prefix is optional), ``trigger.severity`` (StackStorm's name for the payload). A first
    segment that is not a field of the event reads the payload (``severity``). Numeric
    segments index arrays (``payload.tags.0``).
    """
    if not isinstance(field, str) or not field:
        raise RuleError(f"a criterion's field must be a non-empty string, got {field!r}")
    parts = field.split(".")
    if parts[0] == "event" and len(parts) > 1:
        parts = parts[1:]
    if parts[0] == "trigger" and len(parts) > 1:
        current: Any = event.get("payload")
        parts = parts[1:]
    elif parts[0] in event:
        current = event
    else:
        current = event.get("payload")
    for part in parts:
        current = _step(current, part)
        if current is _MISSING:
            return _MISSING
    return current


def _step(value: Any, part: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(part, _MISSING)
    if isinstance(value, list) and part.lstrip("-").isdigit():
        index = int(part)
        if -len(value) <= index < len(value):
            return value[index]
    return _MISSING


# -- operators -----------------------------------------------------------------------------------


def _text(value: Any, operator: str) -> str:
    if not isinstance(value, str):
        raise _Mismatch
    if len(value) > MAX_SUBJECT:
        raise RuleError(f"{operator}: the value is too long (limit {MAX_SUBJECT:,} characters)")
    return value


class _Mismatch(Exception):
    """The value has a type the operator cannot compare: the criterion does not match."""


def _contains(value: Any, pattern: Any) -> bool:
    if isinstance(value, str):
        return isinstance(pattern, str) and pattern in value
    if isinstance(value, list):
        return pattern in value
    if isinstance(value, Mapping):
        return pattern in value
    raise _Mismatch


def _icontains(value: Any, pattern: Any) -> bool:
    if isinstance(value, str) and isinstance(pattern, str):
        return pattern.casefold() in value.casefold()
    if isinstance(value, list) and isinstance(pattern, str):
        return any(isinstance(v, str) and v.casefold() == pattern.casefold() for v in value)
    return _contains(value, pattern)


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise _Mismatch from None
        raise _Mismatch
    return value


def _compare(value: Any, pattern: Any, less: bool) -> bool:
    if isinstance(value, str) and isinstance(pattern, str):
        try:
            a, b = float(value), float(pattern)
        except ValueError:
            return value < pattern if less else value > pattern
        return a < b if less else a > b
    a, b = _number(value), _number(pattern)
    return a < b if less else a > b


@functools.lru_cache(maxsize=256)
def _regex(pattern: str, flags: str) -> Any:
    import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

    if len(pattern) > MAX_PATTERN:
        raise RuleError(f"regular expression is too long (limit {MAX_PATTERN} characters)")
    options = re2.Options()
    options.max_mem = 8 << 20
    options.log_errors = False
    options.case_sensitive = "i" not in flags
    options.dot_nl = "s" in flags
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise RuleError(f"invalid regular expression {pattern!r}: {detail}") from None


def _pattern_text(pattern: Any, operator: str) -> str:
    if not isinstance(pattern, str):
        raise RuleError(f"{operator}: the value must be a string pattern, got {pattern!r}")
    return pattern


def _match_start(value: Any, pattern: Any) -> bool:  # matchregex: anchored at the start
    regex = _regex(_pattern_text(pattern, "matchregex"), "s")
    return regex.match(_text(value, "matchregex")) is not None


def _search(value: Any, pattern: Any) -> bool:  # regex: anywhere
    return _regex(_pattern_text(pattern, "regex"), "").search(_text(value, "regex")) is not None


def _isearch(value: Any, pattern: Any) -> bool:
    regex = _regex(_pattern_text(pattern, "iregex"), "i")
    return regex.search(_text(value, "iregex")) is not None


@functools.lru_cache(maxsize=256)
def _wildcard_regex(pattern: str) -> str:
    """Translate a shell wildcard (``*``, ``?``, ``[abc]``, ``[!abc]``) to an RE2 pattern."""
    import re

    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        i += 1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            end = pattern.find("]", i + 1 if i < len(pattern) and pattern[i] in "!^" else i)
            if end == -1:
                out.append(re.escape(char))
                continue
            body = pattern[i:end]
            i = end + 1
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            escaped = body.replace("\\", "\\\\").replace("]", "\\]")
            out.append(f"[{'^' if negate else ''}{escaped}]")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _wildcard(value: Any, pattern: Any) -> bool:
    text = _pattern_text(pattern, "matchwildcard")
    if len(text) > MAX_PATTERN:
        raise RuleError(f"wildcard pattern is too long (limit {MAX_PATTERN} characters)")
    return _regex(_wildcard_regex(text), "s").fullmatch(_text(value, "matchwildcard")) is not None


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _Mismatch from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, UTC)
    else:
        raise _Mismatch
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _seconds(pattern: Any, operator: str) -> float:
    if isinstance(pattern, bool) or not isinstance(pattern, (int, float, str)):
        raise RuleError(f"{operator}: the value must be a number of seconds, got {pattern!r}")
    try:
        return float(pattern)
    except ValueError:
        raise RuleError(
            f"{operator}: the value must be a number of seconds, got {pattern!r}"
        ) from None


def _inside(value: Any, pattern: Any) -> bool:
    if isinstance(pattern, str):
        return isinstance(value, str) and value in pattern
    if isinstance(pattern, (list, Mapping)):
        return value in pattern
    raise RuleError(f"inside: the value must be a list, object or string, got {pattern!r}")


def _casefold_equals(value: Any, pattern: Any) -> bool:
    if isinstance(value, str) and isinstance(pattern, str):
        return value.casefold() == pattern.casefold()
    return bool(value == pattern)


def _equals(value: Any, pattern: Any) -> bool:
    # JSON semantics: true is not 1.
    if isinstance(value, bool) != isinstance(pattern, bool):
        return False
    return bool(value == pattern)


Operator = Callable[[Any, Any], bool]

_SIMPLE: dict[str, Operator] = {
    "equals": _equals,
    "nequals": lambda v, p: not _equals(v, p),
    "iequals": _casefold_equals,
    "contains": _contains,
    "icontains": _icontains,
    "ncontains": lambda v, p: not _contains(v, p),
    "incontains": lambda v, p: not _icontains(v, p),
    "startswith": lambda v, p: _text(v, "startswith").startswith(_pattern_text(p, "startswith")),
    "istartswith": lambda v, p: (
        _text(v, "istartswith").casefold().startswith(_pattern_text(p, "istartswith").casefold())
    ),
    "endswith": lambda v, p: _text(v, "endswith").endswith(_pattern_text(p, "endswith")),
    "iendswith": lambda v, p: (
        _text(v, "iendswith").casefold().endswith(_pattern_text(p, "iendswith").casefold())
    ),
    "lessthan": lambda v, p: _compare(v, p, less=True),
    "greaterthan": lambda v, p: _compare(v, p, less=False),
    "matchwildcard": _wildcard,
    "matchregex": _match_start,
    "regex": _search,
    "iregex": _isearch,
    "inside": _inside,
    "ninside": lambda v, p: not _inside(v, p),
}

# Every operator of api-contract.md "Rules".
OPERATORS: tuple[str, ...] = (
    *_SIMPLE,
    "exists",
    "nexists",
    "timediff_lt",
    "timediff_gt",
    "search",
)

# Aliases of the original system / StackStorm.
_ALIASES = {
    "eq": "equals",
    "neq": "nequals",
    "ne": "nequals",
    "lt": "lessthan",
    "gt": "greaterthan",
    "exist": "exists",
    "nexist": "nexists",
}


# -- criteria ------------------------------------------------------------------------------------


def _criteria(conditions: Any) -> list[Mapping[str, Any]] | str | None:
    """Normalise ``conditions`` to a criteria list, an expression text, or None (match all)."""
    if conditions is None or conditions == {} or conditions == []:
        return None
    if isinstance(conditions, Mapping):
        if "expression" in conditions:
            expression = conditions["expression"]
            if not isinstance(expression, str) or not expression.strip():
                raise RuleError("conditions.expression must be a non-empty string")
            return expression
        if "criteria" in conditions and isinstance(conditions["criteria"], (list, Mapping)):
            return _criteria(conditions["criteria"])
        # StackStorm mapping form: {"trigger.x": {"type": "equals", "pattern": 1}}
        items: list[Mapping[str, Any]] = []
        for field, spec in conditions.items():
            if not isinstance(spec, Mapping):
                raise RuleError(
                    f"conditions: expected {{'expression': ...}}, a list of criteria, or "
                    f"{{field: {{type, pattern}}}}; {field!r} maps to {spec!r}"
                )
            items.append({"field": field, **spec})
        return items
    if isinstance(conditions, list):
        for index, item in enumerate(conditions):
            if not isinstance(item, Mapping):
                raise RuleError(f"conditions[{index}] must be an object {{field, operator, value}}")
        return list(conditions)
    if isinstance(conditions, str):
        return conditions if conditions.strip() else None
    raise RuleError(f"conditions must be an object or a list, got {type(conditions).__name__}")


def validate_conditions(conditions: Any) -> None:
    """Check the shape of ``conditions`` (operators known, expression compiles).

    Raises:
        RuleError: with the reason, for a rule that could never be evaluated.
    """
    criteria = _criteria(conditions)
    if criteria is None:
        return
    if isinstance(criteria, str):
        _compile_condition(criteria)
        return
    for index, criterion in enumerate(criteria):
        _operator_of(criterion, f"conditions[{index}]")


def _operator_of(criterion: Mapping[str, Any], where: str) -> str:
    raw = criterion.get("operator", criterion.get("type"))
    if not isinstance(raw, str):
        raise RuleError(f"{where}: missing operator")
    operator = _ALIASES.get(raw.lower(), raw.lower())
    if operator not in OPERATORS:
        raise RuleError(
            f"{where}: unknown operator {raw!r} (known: {', '.join(sorted(OPERATORS))})"
        )
    field = criterion.get("field")
    if not isinstance(field, str) or not field:
        raise RuleError(f"{where}: missing field")
    return operator


def _compile_condition(source: str) -> Any:
    text = source.strip()
    try:
        if is_template(text):
            # "{{ expr }}": evaluate as a template (one typed segment, or text).
            return ("template", text)
        return ("expression", compile(text))
    except ExpressionError as exc:
        raise RuleError(f"conditions.expression: {exc}") from None


def conditions_match(conditions: Any, context: Mapping[str, Any], *, now: datetime) -> bool:
    """Whether an event matches ``conditions``.

    Args:
        conditions: The rule's conditions (either form).
        context: The rule namespaces: ``event`` (id, trigger, trigger_ref, payload, created),
            ``pack`` (``{"config": ...}``) and ``system``.
        now: The current time (``timediff_lt`` / ``timediff_gt``).

    Raises:
        RuleError: The conditions cannot be evaluated (the reason is the message).
    """
    criteria = _criteria(conditions)
    if criteria is None:
        return True
    if isinstance(criteria, str):
        kind, compiled = _compile_condition(criteria)
        try:
            result = render(compiled, context) if kind == "template" else compiled.evaluate(context)
        except ExpressionError as exc:
            raise RuleError(f"conditions.expression: {exc}") from None
        return _truthy(result)
    event = context.get("event") or {}
    return all(
        _criterion(criterion, event, now, f"conditions[{index}]")
        for index, criterion in enumerate(criteria)
    )


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0", "null", "none")
    return bool(value)


def _criterion(
    criterion: Mapping[str, Any], subject: Mapping[str, Any], now: datetime, where: str
) -> bool:
    operator = _operator_of(criterion, where)
    value = resolve_field(subject, str(criterion["field"]))
    pattern = criterion.get("value", criterion.get("pattern"))
    if operator == "exists":
        return value is not _MISSING
    if operator == "nexists":
        return value is _MISSING
    if operator == "search":
        return _search_items(criterion, value, now, where)
    if value is _MISSING:
        # A missing field matches only the negative operators (it is not equal to anything).
        return operator in ("nequals", "ncontains", "incontains", "ninside")
    try:
        if operator in ("timediff_lt", "timediff_gt"):
            seconds = _seconds(pattern, operator)
            elapsed = (now - _timestamp(value)).total_seconds()
            return elapsed < seconds if operator == "timediff_lt" else elapsed > seconds
        return _SIMPLE[operator](value, pattern)
    except _Mismatch:
        return operator in ("nequals", "ncontains", "incontains", "ninside")
    except RuleError as exc:
        raise RuleError(f"{where}: {exc}") from None
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise RuleError(f"{where}: {operator} cannot compare {value!r}: {exc}") from None


def _search_items(criterion: Mapping[str, Any], items: Any, now: datetime, where: str) -> bool:
    """``search``: every sub-criterion against each list item; ``condition`` any (default) or all.

    ``value`` maps an item field to ``{operator, value}`` (``item.`` prefix optional), e.g.
    ``{"name": {"operator": "equals", "value": "disk"}, "level": {"operator":
    "greaterthan", "value": 3}}``. An item matches when all its sub-criteria do.
    """
    condition = str(criterion.get("condition", "any")).lower()
    if condition not in ("any", "all"):
        raise RuleError(f"{where}: search condition must be 'any' or 'all', got {condition!r}")
    spec = criterion.get("value", criterion.get("pattern"))
    if not isinstance(spec, Mapping) or not spec:
        raise RuleError(f"{where}: search needs value {{item_field: {{operator, value}}}}")
    subs: list[Mapping[str, Any]] = []
    for field, sub in spec.items():
        if not isinstance(sub, Mapping):
            raise RuleError(f"{where}: search value {field!r} must be {{operator, value}}")
        path = field[5:] if field.startswith("item.") else field
        subs.append({**sub, "field": "item." + path if path else "item"})
    if items is _MISSING or not isinstance(items, list):
        return False
    if not items:
        return False

    def item_matches(item: Any) -> bool:
        scope = {"item": item}
        return all(_criterion(sub, scope, now, f"{where}.value.{sub['field'][5:]}") for sub in subs)

    matches = (item_matches(item) for item in items)
    return any(matches) if condition == "any" else all(matches)
