"""Rule conditions: every operator of api-contract.md, both forms, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from attune_core.model import Event, Rule
from attune_core.rules import (
    OPERATORS,
    RuleError,
    conditions_match,
    render_action_params,
    rule_context,
    validate_conditions,
)

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
PAYLOAD = {
    "severity": "Critical",
    "host": "web-01.eu",
    "count": 5,
    "ratio": 0.5,
    "tags": ["prod", "eu"],
    "meta": {"team": "ops"},
    "seen": "2026-01-01T11:59:00Z",
    "flag": True,
    "items": [{"name": "cpu", "level": 2}, {"name": "disk", "level": 4}],
}
EVENT = Event(id=7, trigger_ref="core.webhook", payload=PAYLOAD, created=NOW)
RULE = Rule(
    id=3, ref="ops.alert", pack_ref="ops", label="x", action_ref="core.echo", trigger_ref="t.t"
)


def context() -> dict[str, Any]:
    return rule_context(EVENT, RULE, pack_config={"threshold": 3}, now=NOW)


def match(field: str, operator: str, value: Any = None, **extra: Any) -> bool:
    criterion = {"field": field, "operator": operator, "value": value, **extra}
    return conditions_match([criterion], context(), now=NOW)


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        ("payload.count", "equals", 5, True),
        ("payload.count", "equals", "5", False),
        ("payload.flag", "equals", 1, False),
        ("payload.count", "nequals", 6, True),
        ("payload.severity", "iequals", "CRITICAL", True),
        ("payload.host", "contains", "web", True),
        ("payload.tags", "contains", "prod", True),
        ("payload.meta", "contains", "team", True),
        ("payload.host", "icontains", "WEB", True),
        ("payload.tags", "icontains", "PROD", True),
        ("payload.host", "ncontains", "db", True),
        ("payload.host", "incontains", "WEB", False),
        ("payload.host", "startswith", "web", True),
        ("payload.host", "istartswith", "WEB", True),
        ("payload.host", "endswith", ".eu", True),
        ("payload.host", "iendswith", ".EU", True),
        ("payload.count", "lessthan", 6, True),
        ("payload.count", "greaterthan", 6, False),
        ("payload.ratio", "greaterthan", 0.25, True),
        ("payload.host", "matchwildcard", "web-??.*", True),
        ("payload.host", "matchwildcard", "db-*", False),
        ("payload.host", "matchwildcard", "web-0[0-9].eu", True),
        ("payload.host", "matchregex", r"web-\d+", True),
        ("payload.host", "matchregex", r"\d+", False),  # anchored at the start
        ("payload.host", "regex", r"\d+\.eu$", True),  # anywhere
        ("payload.severity", "iregex", "^crit", True),
        ("payload.severity", "regex", "^crit", False),
        ("payload.meta.team", "exists", None, True),
        ("payload.nothing", "exists", None, False),
        ("payload.nothing", "nexists", None, True),
        ("payload.count", "inside", [1, 5, 9], True),
        ("payload.severity", "inside", "Critical,Major", True),
        ("payload.count", "ninside", [1, 2], True),
        ("payload.seen", "timediff_lt", 120, True),
        ("payload.seen", "timediff_gt", 120, False),
        ("payload.seen", "timediff_gt", 30, True),
        # field forms: event. prefix, StackStorm's trigger., bare payload key, array index
        ("event.payload.count", "equals", 5, True),
        ("trigger.count", "equals", 5, True),
        ("count", "equals", 5, True),
        ("payload.tags.1", "equals", "eu", True),
        ("trigger_ref", "equals", "core.webhook", True),
        # type mismatches never match (except the negative operators)
        ("payload.count", "startswith", "5", False),
        ("payload.tags", "lessthan", 3, False),
        ("payload.missing", "equals", None, False),
        ("payload.missing", "nequals", 1, True),
    ],
)
def test_operators(field: str, operator: str, value: Any, expected: bool) -> None:
    assert match(field, operator, value) is expected


def test_every_operator_of_the_contract_is_known() -> None:
    contract = [
        "equals",
        "nequals",
        "iequals",
        "contains",
        "icontains",
        "ncontains",
        "incontains",
        "startswith",
        "istartswith",
        "endswith",
        "iendswith",
        "lessthan",
        "greaterthan",
        "matchwildcard",
        "matchregex",
        "regex",
        "iregex",
        "exists",
        "nexists",
        "inside",
        "ninside",
        "timediff_lt",
        "timediff_gt",
        "search",
    ]
    assert sorted(OPERATORS) == sorted(contract)


def test_search_any_and_all_over_list_items() -> None:
    disk = {
        "name": {"operator": "equals", "value": "disk"},
        "level": {"operator": "greaterthan", "value": 3},
    }
    assert match("payload.items", "search", disk, condition="any")
    assert not match("payload.items", "search", disk, condition="all")
    positive = {"item.level": {"operator": "greaterthan", "value": 1}}
    assert match("payload.items", "search", positive, condition="all")
    assert not match("payload.tags", "search", positive, condition="any")  # items are strings
    assert not match("payload.nothing", "search", positive)
    with pytest.raises(RuleError, match="any' or 'all"):
        match("payload.items", "search", positive, condition="most")


def test_criteria_are_anded_and_empty_conditions_match_everything() -> None:
    both = [
        {"field": "payload.count", "operator": "equals", "value": 5},
        {"field": "payload.host", "operator": "startswith", "value": "db"},
    ]
    assert not conditions_match(both, context(), now=NOW)
    for empty in (None, {}, []):
        assert conditions_match(empty, context(), now=NOW)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("{{ event.payload.count > pack.config.threshold }}", True),
        ("event.payload.count > 10", False),
        ("{{ 'prod' in event.payload.tags and system.rule.ref == 'ops.alert' }}", True),
        ("event.trigger == 'core.webhook' and event.id == 7", True),
        ("{{ event.payload.nothing }}", False),
    ],
)
def test_expression_form(expression: str, expected: bool) -> None:
    assert conditions_match({"expression": expression}, context(), now=NOW) is expected


def test_stackstorm_mapping_form() -> None:
    criteria = {"trigger.severity": {"type": "iequals", "pattern": "critical"}}
    assert conditions_match(criteria, context(), now=NOW)


@pytest.mark.parametrize(
    ("conditions", "reason"),
    [
        ([{"field": "x", "operator": "resembles", "value": 1}], "unknown operator"),
        ([{"operator": "equals", "value": 1}], "missing field"),
        ([{"field": "x", "value": 1}], "missing operator"),
        (["not an object"], "must be an object"),
        ({"expression": "event.payload.count >"}, r"conditions\.expression"),
        ({"expression": ""}, "non-empty"),
        (42, "must be an object or a list"),
    ],
)
def test_malformed_conditions_are_rejected_with_the_reason(conditions: Any, reason: str) -> None:
    with pytest.raises(RuleError, match=reason):
        validate_conditions(conditions)


@pytest.mark.parametrize(
    ("criterion", "reason"),
    [
        ({"field": "payload.host", "operator": "regex", "value": "(a"}, "invalid regular"),
        ({"field": "payload.host", "operator": "regex", "value": "a" * 2000}, "too long"),
        ({"field": "payload.host", "operator": "regex", "value": 5}, "string pattern"),
        ({"field": "payload.seen", "operator": "timediff_lt", "value": "soon"}, "seconds"),
        ({"field": "payload.count", "operator": "inside", "value": 5}, "inside"),
    ],
)
def test_evaluation_errors_raise_rule_error(criterion: dict[str, Any], reason: str) -> None:
    with pytest.raises(RuleError, match=reason):
        conditions_match([criterion], context(), now=NOW)


def test_hostile_regex_runs_in_linear_time() -> None:
    subject = {"field": "payload.text", "operator": "regex", "value": "(a+)+$"}
    event = Event(id=1, trigger_ref="t.t", payload={"text": "a" * 50_000 + "!"}, created=NOW)
    ctx = rule_context(event, RULE, pack_config={}, now=NOW)
    assert conditions_match([subject], ctx, now=NOW) is False


def test_expression_errors_in_conditions_are_rule_errors() -> None:
    with pytest.raises(RuleError, match=r"conditions\.expression"):
        conditions_match({"expression": "event.payload.host - 1"}, context(), now=NOW)


def test_action_params_keep_types_and_render_missing_paths_as_null() -> None:
    params = {
        "count": "{{ event.payload.count }}",
        "tags": "{{ event.payload.tags }}",
        "text": "host {{ event.payload.host }} x{{ event.payload.count }}",
        "missing": "{{ event.payload.nothing.deeper }}",
        "config": "{{ pack.config.threshold }}",
        "rule": "{{ system.rule.ref }}",
        "stamp": "{{ system.timestamp }}",
        "created": "{{ event.created }}",
        "literal": 12,
        "nested": {"list": ["{{ event.id }}"]},
    }
    assert render_action_params(params, context()) == {
        "count": 5,
        "tags": ["prod", "eu"],
        "text": "host web-01.eu x5",
        "missing": None,
        "config": 3,
        "rule": "ops.alert",
        "stamp": NOW.isoformat(),
        "created": NOW.isoformat(),
        "literal": 12,
        "nested": {"list": [7]},
    }


def test_action_params_errors_name_the_parameter() -> None:
    with pytest.raises(RuleError, match="cannot render action_params"):
        render_action_params({"bad": "{{ event.payload.host * 2 }}"}, context())
    with pytest.raises(RuleError):
        render_action_params({"bad": "{{ unterminated"}, context())
