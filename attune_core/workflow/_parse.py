"""Workflow text -> validated :class:`WorkflowDefinition`.

Rules of this file:

1. Never stop at the first problem. Every check records a :class:`Problem` with the document
   path of the offending value and keeps going with a best-effort value, so one run reports
   everything (``tasks[2].next[0].do[1]: unknown task "logg"``). Only at the very end does
   :func:`parse_workflow` raise :class:`WorkflowDefinitionError`, if any error was recorded.
2. Unknown keys are errors: a typo such as ``on_sucess`` must not silently drop a branch.
3. Every expression is compiled here, at load time, by the expression engine; an error carries
   the task, the field and the column inside the text the author wrote.
4. Legacy fields are rewritten into ``next`` transitions here and nowhere else (see
   :func:`_legacy_transitions` for the exact mapping); the conductor only knows ``next``.
5. Cycles are allowed (loops are a feature). Unreachable tasks are warnings, not errors.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

import yaml

from attune_core.workflow import _expr
from attune_core.workflow._problems import Problem, Severity, WorkflowDefinitionError
from attune_core.workflow._spec import (
    JOIN_ALL,
    RESERVED_TARGETS,
    Backoff,
    RetrySpec,
    TaskSpec,
    Transition,
    WorkflowDefinition,
)

__all__ = ["parse_workflow"]

_TOP_KEYS = frozenset(
    {
        "ref",
        "label",
        "description",
        "version",
        "parameters",
        "vars",
        "tasks",
        "output_map",
        "output",
        "tags",
        "__chart_meta__",
    }
)
_LEGACY_KEYS = ("on_success", "on_failure", "on_complete", "on_timeout", "decision", "publish")
_TASK_KEYS = frozenset(
    {
        "name",
        "action",
        "input",
        "next",
        "join",
        "with_items",
        "concurrency",
        "batch_size",
        "retry",
        "delay",
        "timeout",
        "description",
        "__chart_meta__",
        *_LEGACY_KEYS,
    }
)
_TRANSITION_KEYS = frozenset({"when", "publish", "do", "label", "color", "__chart_meta__"})
_RETRY_KEYS = frozenset({"count", "delay", "backoff", "max_delay", "when"})
_DECISION_KEYS = frozenset({"when", "next", "default"})
_PARAM_TYPES = frozenset({"string", "integer", "number", "boolean", "array", "object", "any"})

# Task names end up as identifiers in expressions (task.<name>.result); a letter or underscore
# first keeps them addressable. Hyphens are accepted for compatibility (task["a-b"] reads them).
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# <pack>.<name>, the pack part as pack.yaml requires it.
_REF_RE = re.compile(r"^[a-z][a-z0-9_-]*\.[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def parse_workflow(
    source: str | bytes | Mapping[str, Any], *, ref: str | None = None
) -> WorkflowDefinition:
    """Parse and validate a workflow definition.

    Args:
        source: YAML or JSON text, or an already-loaded mapping.
        ref: Ref to use when the document has none (files in a pack default to
            ``<pack>.<file stem>``).

    Returns:
        The validated definition; non-fatal findings are in ``definition.warnings``.

    Raises:
        WorkflowDefinitionError: Listing every problem found (with paths, and lines when the
            source was text).
    """
    lines: dict[str, int] = {}
    problems: list[Problem] = []
    if isinstance(source, bytes | str):
        text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
        doc = _load_text(text, lines, problems)
        if problems:
            raise WorkflowDefinitionError(problems)
    else:
        doc = source
    parser = _Parser(lines, problems)
    definition = parser.definition(doc, ref)
    errors = [p for p in parser.problems if p.severity is Severity.ERROR]
    warnings = [p for p in parser.problems if p.severity is Severity.WARNING]
    if errors or definition is None:
        raise WorkflowDefinitionError(errors, warnings)
    return definition


# --------------------------------------------------------------------------------------------
# YAML with line numbers


def _load_text(text: str, lines: dict[str, int], problems: list[Problem]) -> Any:
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problems.append(Problem("", f"not valid YAML/JSON: {_yaml_reason(exc)}", line=line))
        return None
    if len(nodes) != 1:
        problems.append(Problem("", f"expected one YAML document, found {len(nodes)}"))
        return None
    _index_lines(nodes[0], "", lines, problems)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:  # compose succeeded, so this is a constructor error
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problems.append(Problem("", f"not valid YAML/JSON: {_yaml_reason(exc)}", line=line))
        return None


def _yaml_reason(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    return str(problem) if problem else str(exc).splitlines()[0]


def _index_lines(
    node: yaml.Node, path: str, lines: dict[str, int], problems: list[Problem]
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            child = f"{path}.{key}" if path else key
            if key in seen:
                # safe_load would silently keep the last value; a duplicated task field is
                # almost always a mistake (two `next:` blocks), so it is an error.
                problems.append(
                    Problem(child, f'duplicate key "{key}"', line=key_node.start_mark.line + 1)
                )
            seen.add(key)
            _index_lines(value_node, child, lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, f"{path}[{index}]", lines, problems)


# --------------------------------------------------------------------------------------------
# Validation


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a map",
    }.get(type(value), type(value).__name__)


class _Parser:
    """Collects problems while building the definition (one instance per parse)."""

    def __init__(self, lines: Mapping[str, int], problems: list[Problem]) -> None:
        self._lines = lines
        self.problems = problems

    # -- recording ---------------------------------------------------------------------------

    def _line(self, path: str) -> int | None:
        # Walk up to the nearest indexed ancestor (a converted legacy field has no own node).
        probe = path
        while probe:
            line = self._lines.get(probe)
            if line is not None:
                return line
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""
        return None

    def error(
        self,
        path: str,
        message: str,
        *,
        task: str | None = None,
        field: str | None = None,
        column: int | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.problems.append(
            Problem(
                path,
                message,
                severity=severity,
                line=self._line(path),
                task=task,
                field=field,
                column=column,
            )
        )

    def warn(self, path: str, message: str, *, task: str | None = None) -> None:
        self.error(path, message, task=task, severity=Severity.WARNING)

    def _unknown_keys(self, body: Mapping[Any, Any], allowed: frozenset[str], path: str) -> None:
        for key in body:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                extra = f' (did you mean "{hint[0]}"?)' if hint else ""
                where = f"{path}.{key}" if path else str(key)
                self.error(where, f'unknown key "{key}"{extra}')

    # -- expressions -------------------------------------------------------------------------

    def check_templates(self, value: Any, path: str, task: str | None, field: str) -> None:
        """Compile every template string inside ``value`` (input, publish, vars, output)."""
        for sub_path, text in _expr.iter_template_strings(value, ""):
            # sub_path is relative to `value`: "" (the value itself), "[0]..." or "key...".
            sep = "" if not sub_path or sub_path.startswith("[") else "."
            for message, column in _expr.check_template(text):
                where = f"column {column}: " if column is not None else ""
                self.error(
                    f"{path}{sep}{sub_path}",
                    f"invalid expression: {where}{message}",
                    task=task,
                    field=f"{field}{sep}{sub_path}",
                    column=column,
                )

    def condition(self, value: Any, path: str, task: str | None, field: str) -> str | None:
        """Validate a condition (``when``); return its bare expression or ``None``."""
        if isinstance(value, bool):
            # YAML turns `when: true` into a boolean; the language spells it the same way.
            return "true" if value else "false"
        if not isinstance(value, str):
            self.error(path, f"must be an expression string, not {_type_name(value)}", task=task)
            return None
        bare = _expr.bare_expression(value)
        if bare is None:
            self.error(
                path,
                'must be a single expression, e.g. "{{ succeeded() }}" or "succeeded()", '
                "not text mixed with {{ }}",
                task=task,
                field=field,
            )
            return None
        source, offset = bare
        problem = _expr.check_bare(source, offset)
        if problem is not None:
            message, column = problem
            where = f"column {column}: " if column is not None else ""
            self.error(
                path,
                f"invalid expression: {where}{message}",
                task=task,
                field=field,
                column=column,
            )
            return None
        return source

    # -- sections ----------------------------------------------------------------------------

    def pairs(self, value: Any, path: str, what: str) -> list[tuple[str, Any]] | None:
        """A map, or a list of single-key maps (``vars``, ``publish``, ``output_map``)."""
        if value is None:
            return []
        if isinstance(value, dict):
            items = list(value.items())
            for key, _ in items:
                if not isinstance(key, str) or not _VAR_RE.match(key):
                    self.error(f"{path}.{key}", f'"{key}" is not a valid {what} name')
            return [(str(k), v) for k, v in items]
        if isinstance(value, list):
            out: list[tuple[str, Any]] = []
            for index, entry in enumerate(value):
                where = f"{path}[{index}]"
                if not isinstance(entry, dict) or len(entry) != 1:
                    self.error(where, f"must be a single-key map ({what}: value)")
                    continue
                ((key, item),) = entry.items()
                if not isinstance(key, str) or not _VAR_RE.match(key):
                    self.error(where, f'"{key}" is not a valid {what} name')
                    continue
                out.append((key, item))
            return out
        self.error(path, f"must be a map or a list of single-key maps, not {_type_name(value)}")
        return None

    def definition(self, doc: Any, default_ref: str | None) -> WorkflowDefinition | None:
        if not isinstance(doc, dict):
            self.error("", f"a workflow definition must be a map, not {_type_name(doc)}")
            return None
        self._unknown_keys(doc, _TOP_KEYS, "")

        ref = doc.get("ref", default_ref)
        if ref is None:
            ref = ""
        elif not isinstance(ref, str) or not _REF_RE.match(ref):
            self.error("ref", f'"{ref}" is not a valid ref (expected "<pack>.<name>")')
            ref = str(ref)
        label = self._optional_str(doc, "label", "")
        if not label:
            label = ref.rsplit(".", 1)[-1] if ref else ""
        description = self._optional_str(doc, "description", None)
        version: str | None = None
        if "version" in doc and doc["version"] is not None:
            raw_version = doc["version"]
            if isinstance(raw_version, str | int | float) and not isinstance(raw_version, bool):
                version = str(raw_version)
            else:
                self.error("version", f"must be a string, not {_type_name(raw_version)}")

        parameters = self.parameters(doc.get("parameters"))
        vars_ = self.pairs(doc.get("vars"), "vars", "variable") or []
        for index, (name, value) in enumerate(vars_):
            self.check_templates(value, f"vars.{name}", None, f"vars.{name}")
            del index

        if "output_map" in doc and "output" in doc:
            self.error("output", 'give either "output_map" or "output", not both')
        out_key = "output_map" if "output_map" in doc else "output"
        output = self.pairs(doc.get(out_key), out_key, "output") or []
        for name, value in output:
            self.check_templates(value, f"{out_key}.{name}", None, f"{out_key}.{name}")

        tags: list[str] = []
        raw_tags = doc.get("tags")
        if raw_tags is not None:
            if isinstance(raw_tags, list) and all(isinstance(t, str) for t in raw_tags):
                tags = list(raw_tags)
            else:
                self.error("tags", "must be a list of strings")

        tasks = self.tasks(doc)
        inbound, entries = self.graph(tasks)

        return WorkflowDefinition(
            ref=ref,
            label=label,
            description=description,
            version=version,
            parameters=parameters,
            vars=tuple(vars_),
            tasks=tuple(tasks),
            output=tuple(output),
            tags=tuple(tags),
            chart_meta=doc.get("__chart_meta__"),
            warnings=tuple(p for p in self.problems if p.severity is Severity.WARNING),
            inbound=inbound,
            entry_tasks=tuple(entries),
        )

    def _optional_str(self, body: Mapping[str, Any], key: str, default: str | None) -> Any:
        value = body.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            self.error(key, f"must be a string, not {_type_name(value)}")
            return default
        return value

    def parameters(self, value: Any) -> dict[str, Mapping[str, Any]]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error("parameters", f"must be a map of name: schema, not {_type_name(value)}")
            return {}
        out: dict[str, Mapping[str, Any]] = {}
        for name, schema in value.items():
            path = f"parameters.{name}"
            if not isinstance(name, str) or not _VAR_RE.match(name):
                self.error(path, f'"{name}" is not a valid parameter name')
                continue
            if not isinstance(schema, dict):
                self.error(path, f"must be a map (type, default, ...), not {_type_name(schema)}")
                continue
            kind = schema.get("type")
            if kind is not None and kind not in _PARAM_TYPES:
                self.error(
                    f"{path}.type",
                    f'unknown type "{kind}" (one of {", ".join(sorted(_PARAM_TYPES))})',
                )
            for flag in ("required", "secret"):
                if flag in schema and not isinstance(schema[flag], bool):
                    self.error(f"{path}.{flag}", "must be true or false")
            out[name] = schema
        return out

    # -- tasks -------------------------------------------------------------------------------

    def tasks(self, doc: Mapping[str, Any]) -> list[TaskSpec]:
        if "tasks" not in doc:
            self.error("tasks", 'is required (use "tasks: []" for a workflow that does nothing)')
            return []
        raw = doc["tasks"]
        entries: list[tuple[str, Any, str | None]] = []  # (path, body, name from map key)
        if raw is None:
            return []
        if isinstance(raw, list):
            entries = [(f"tasks[{i}]", body, None) for i, body in enumerate(raw)]
        elif isinstance(raw, dict):
            # Orquesta writes tasks as a map name -> body; accept it, keeping document order.
            entries = [(f"tasks.{name}", body, str(name)) for name, body in raw.items()]
        else:
            self.error("tasks", f"must be a list of tasks, not {_type_name(raw)}")
            return []

        specs: list[TaskSpec] = []
        first_seen: dict[str, str] = {}
        for path, body, keyed_name in entries:
            spec = self.task(path, body, keyed_name)
            if spec is None:
                continue
            if spec.name in first_seen:
                self.error(
                    f"{path}.name",
                    f'duplicate task name "{spec.name}" (first defined at {first_seen[spec.name]})',
                    task=spec.name,
                )
                continue
            first_seen[spec.name] = path
            specs.append(spec)
        self.check_targets(specs)
        return specs

    def task(self, path: str, body: Any, keyed_name: str | None) -> TaskSpec | None:
        if not isinstance(body, dict):
            self.error(path, f"a task must be a map, not {_type_name(body)}")
            return None
        self._unknown_keys(body, _TASK_KEYS, path)
        name = body.get("name", keyed_name)
        if keyed_name is not None and "name" in body and body["name"] != keyed_name:
            self.error(f"{path}.name", f'"{body["name"]}" differs from the map key "{keyed_name}"')
        if not isinstance(name, str) or not name:
            self.error(f"{path}.name" if keyed_name is None else path, "a task needs a name")
            return None
        if not _NAME_RE.match(name):
            self.error(
                f"{path}.name",
                f'"{name}" is not a valid task name (letters, digits, "_" and "-", '
                "starting with a letter or _)",
                task=name,
            )
        if name in RESERVED_TARGETS:
            self.error(
                f"{path}.name", f'"{name}" is reserved (it is a special "do" target)', task=name
            )

        action = body.get("action")
        if action is not None:
            if not isinstance(action, str) or not action.strip():
                self.error(f"{path}.action", "must be an action ref such as core.echo", task=name)
                action = None
            else:
                self.check_templates(action, f"{path}.action", name, "action")

        task_input = body.get("input")
        if task_input is None:
            task_input = {}
        elif not isinstance(task_input, dict):
            self.error(f"{path}.input", f"must be a map, not {_type_name(task_input)}", task=name)
            task_input = {}
        else:
            self.check_templates(task_input, f"{path}.input", name, "input")

        transitions = self.transitions(body, path, name)
        join = self.join(body.get("join"), f"{path}.join", name)
        with_items = self.with_items(body, path, name)
        concurrency = self._positive_int(body, "concurrency", path, name, default=1)
        batch_size = self._positive_int(body, "batch_size", path, name, default=None)
        if with_items is None:
            for key in ("concurrency", "batch_size"):
                if key in body:
                    self.warn(f"{path}.{key}", "has no effect without with_items", task=name)
        retry = self.retry(body.get("retry"), f"{path}.retry", name)
        delay = self._non_negative_number(body, "delay", path, name)
        timeout_value = body.get("timeout")
        timeout: int | None = None
        if timeout_value is not None:
            if _is_int(timeout_value) and timeout_value > 0:
                timeout = timeout_value
            else:
                self.error(f"{path}.timeout", "must be a whole number of seconds > 0", task=name)
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            self.error(f"{path}.description", "must be a string", task=name)
            description = None

        return TaskSpec(
            name=name,
            action=action,
            input=task_input,
            next=tuple(transitions),
            join=join,
            with_items=with_items,
            concurrency=concurrency if concurrency is not None else 1,
            batch_size=batch_size,
            retry=retry,
            delay=delay,
            timeout=timeout,
            description=description,
            chart_meta=body.get("__chart_meta__"),
            path=path,
        )

    def _positive_int(
        self, body: Mapping[str, Any], key: str, path: str, task: str, default: int | None
    ) -> int | None:
        value = body.get(key)
        if value is None:
            return default
        if not _is_int(value) or value < 1:
            self.error(f"{path}.{key}", "must be a whole number >= 1", task=task)
            return default
        return int(value)

    def _non_negative_number(
        self, body: Mapping[str, Any], key: str, path: str, task: str
    ) -> float | None:
        value = body.get(key)
        if value is None:
            return None
        if not _is_number(value) or value < 0:
            self.error(f"{path}.{key}", "must be a number of seconds >= 0", task=task)
            return None
        return float(value)

    def join(self, value: Any, path: str, task: str) -> int | str | None:
        if value is None:
            return None
        if value == JOIN_ALL:
            return JOIN_ALL
        if _is_int(value) and value >= 1:
            return int(value)
        self.error(path, 'must be "all" or a whole number >= 1', task=task)
        return None

    def with_items(self, body: Mapping[str, Any], path: str, task: str) -> str | list[Any] | None:
        value = body.get("with_items")
        if value is None:
            return None
        where = f"{path}.with_items"
        if isinstance(value, list):
            self.check_templates(value, where, task, "with_items")
            return value
        if isinstance(value, str):
            return self.condition(value, where, task, "with_items")
        self.error(where, f"must be an expression or a list, not {_type_name(value)}", task=task)
        return None

    def retry(self, value: Any, path: str, task: str) -> RetrySpec | None:
        if value is None:
            return None
        if _is_int(value):
            value = {"count": value}
        if not isinstance(value, dict):
            self.error(
                path, f"must be a map (count, delay, ...), not {_type_name(value)}", task=task
            )
            return None
        self._unknown_keys(value, _RETRY_KEYS, path)
        count: Any = value.get("count")
        if not _is_int(count) or count < 0:
            self.error(f"{path}.count", "is required: a whole number >= 0", task=task)
            count = 0
        delay = value.get("delay", 0)
        if not _is_number(delay) or delay < 0:
            self.error(f"{path}.delay", "must be a number of seconds >= 0", task=task)
            delay = 0
        backoff_raw = value.get("backoff", Backoff.CONSTANT.value)
        try:
            backoff = Backoff(backoff_raw)
        except ValueError:
            self.error(f"{path}.backoff", "must be one of constant, linear, exponential", task=task)
            backoff = Backoff.CONSTANT
        max_delay = value.get("max_delay")
        if max_delay is not None and (not _is_number(max_delay) or max_delay <= 0):
            self.error(f"{path}.max_delay", "must be a number of seconds > 0", task=task)
            max_delay = None
        when = None
        if value.get("when") is not None:
            when = self.condition(value["when"], f"{path}.when", task, "retry.when")
        return RetrySpec(
            count=int(count),
            delay=float(delay),
            backoff=backoff,
            max_delay=None if max_delay is None else float(max_delay),
            when=when,
        )

    # -- transitions -------------------------------------------------------------------------

    def transitions(self, body: Mapping[str, Any], path: str, task: str) -> list[Transition]:
        legacy = [key for key in _LEGACY_KEYS if key in body]
        if "next" in body and legacy:
            self.error(
                f"{path}.{legacy[0]}",
                'cannot be combined with "next"; write it as a transition in "next"',
                task=task,
            )
            return self.next_list(body["next"], path, task)
        if legacy:
            return self.legacy_transitions(body, path, task)
        return self.next_list(body.get("next"), path, task)

    def next_list(self, value: Any, path: str, task: str) -> list[Transition]:
        if value is None:
            return []
        if isinstance(value, dict):
            value = [value]  # a single transition written without the list
        if not isinstance(value, list):
            self.error(f"{path}.next", f"must be a list of transitions, not {_type_name(value)}")
            return []
        out: list[Transition] = []
        for index, entry in enumerate(value):
            where = f"{path}.next[{index}]"
            origin = f"next[{index}]"
            if not isinstance(entry, dict):
                self.error(where, f"a transition must be a map, not {_type_name(entry)}", task=task)
                continue
            self._unknown_keys(entry, _TRANSITION_KEYS, where)
            when: str | None = None
            when_source: str | None = None
            if entry.get("when") is not None:
                when_source = entry["when"] if isinstance(entry["when"], str) else None
                when = self.condition(entry["when"], f"{where}.when", task, f"{origin}.when")
            publish = self.publish(entry.get("publish"), f"{where}.publish", task, origin)
            targets = self.targets(entry.get("do"), f"{where}.do", task)
            label = entry.get("label")
            if label is not None and not isinstance(label, str):
                self.error(f"{where}.label", "must be a string", task=task)
                label = None
            color = entry.get("color")
            if color is not None and not isinstance(color, str):
                self.error(f"{where}.color", "must be a string", task=task)
                color = None
            out.append(
                Transition(
                    when=when,
                    publish=tuple(publish),
                    do=tuple(targets),
                    label=label,
                    color=color,
                    chart_meta=entry.get("__chart_meta__"),
                    origin=origin,
                    when_source=when_source,
                )
            )
        return out

    def publish(self, value: Any, path: str, task: str, origin: str) -> list[tuple[str, Any]]:
        pairs = self.pairs(value, path, "variable") or []
        for name, item in pairs:
            self.check_templates(item, f"{path}.{name}", task, f"{origin}.publish.{name}")
        return pairs

    def targets(self, value: Any, path: str, task: str) -> list[str]:
        """``do`` as a list, a single name, or Orquesta's comma-separated string."""
        if value is None:
            return []
        if isinstance(value, str):
            names = [part.strip() for part in value.split(",")]
            if any(not n for n in names):
                self.error(path, "has an empty task name", task=task)
            return [n for n in names if n]
        if isinstance(value, list):
            out: list[str] = []
            for index, item in enumerate(value):
                if not isinstance(item, str) or not item:
                    self.error(f"{path}[{index}]", "must be a task name", task=task)
                    continue
                out.append(item)
            return out
        self.error(path, f"must be a task name or a list of names, not {_type_name(value)}")
        return []

    def legacy_transitions(self, body: Mapping[str, Any], path: str, task: str) -> list[Transition]:
        """Rewrite legacy fields into ``next`` transitions.

        The mapping (documented in docs/workflows.md):

        * ``publish`` (task level) rides on the ``on_success`` transition; without
          ``on_success`` it becomes its own ``succeeded()`` transition with no targets. Legacy
          engines published only on success.
        * ``on_success: X`` -> ``when: succeeded()``, ``do: [X]``.
        * ``decision: [{when: c1, next: A}, {when: c2, next: B}, {default: true, next: C}]``
          -> first-match branches evaluated on success: ``succeeded() and (c1)``,
          ``succeeded() and (c2) and not (c1)``, default ``succeeded() and not (c1) and not
          (c2)``. A decision picks one branch, so later branches exclude earlier ones.
        * ``on_failure: Y`` -> ``when: failed()``; when ``on_timeout`` is also given,
          ``failed() and not timed_out()`` so a timeout runs only its own handler.
        * ``on_timeout: Z`` -> ``when: timed_out()``.
        * ``on_complete: W`` -> no condition.
        """
        out: list[Transition] = []
        publish = self.publish(body.get("publish"), f"{path}.publish", task, "publish")
        success = self.legacy_targets(body.get("on_success"), f"{path}.on_success", task)
        if success is not None or publish:
            out.append(
                Transition(
                    when="succeeded()",
                    publish=tuple(publish),
                    do=tuple(success or ()),
                    origin="on_success" if success is not None else "publish",
                    when_source="{{ succeeded() }}",
                )
            )
        out.extend(self.decision(body.get("decision"), f"{path}.decision", task))
        failure = self.legacy_targets(body.get("on_failure"), f"{path}.on_failure", task)
        timeout = self.legacy_targets(body.get("on_timeout"), f"{path}.on_timeout", task)
        if failure is not None:
            when = "failed() and not timed_out()" if timeout is not None else "failed()"
            out.append(
                Transition(
                    when=when,
                    do=tuple(failure),
                    origin="on_failure",
                    when_source=f"{{{{ {when} }}}}",
                )
            )
        if timeout is not None:
            out.append(
                Transition(
                    when="timed_out()",
                    do=tuple(timeout),
                    origin="on_timeout",
                    when_source="{{ timed_out() }}",
                )
            )
        complete = self.legacy_targets(body.get("on_complete"), f"{path}.on_complete", task)
        if complete is not None:
            out.append(Transition(do=tuple(complete), origin="on_complete"))
        return out

    def legacy_targets(self, value: Any, path: str, task: str) -> list[str] | None:
        if value is None:
            return None
        if isinstance(value, str) and value:
            return [value]
        if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            return list(value)
        self.error(path, "must be a task name or a list of task names", task=task)
        return None

    def decision(self, value: Any, path: str, task: str) -> list[Transition]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(path, f"must be a list of branches, not {_type_name(value)}", task=task)
            return []
        out: list[Transition] = []
        previous: list[str] = []
        default: tuple[str, list[str]] | None = None  # (origin, targets)
        for index, branch in enumerate(value):
            where = f"{path}[{index}]"
            origin = f"decision[{index}]"
            if not isinstance(branch, dict):
                self.error(where, "a branch must be a map (when, next)", task=task)
                continue
            self._unknown_keys(branch, _DECISION_KEYS, where)
            targets = self.legacy_targets(branch.get("next"), f"{where}.next", task) or []
            if branch.get("default") is True:
                if default is not None:
                    self.error(where, "only one default branch is allowed", task=task)
                default = (origin, targets)
                continue
            if branch.get("when") is None:
                self.error(f"{where}.when", "is required (or set default: true)", task=task)
                continue
            condition = self.condition(branch["when"], f"{where}.when", task, f"{origin}.when")
            if condition is None:
                continue
            parts = ["succeeded()", f"({condition})", *(f"not ({c})" for c in previous)]
            out.append(
                Transition(
                    when=" and ".join(parts),
                    do=tuple(targets),
                    origin=origin,
                    when_source=branch["when"] if isinstance(branch["when"], str) else None,
                )
            )
            previous.append(condition)
        if default is not None:
            # The default is the branch taken when no condition holds, wherever it was written.
            parts = ["succeeded()", *(f"not ({c})" for c in previous)]
            out.append(
                Transition(
                    when=" and ".join(parts),
                    do=tuple(default[1]),
                    origin=default[0],
                    when_source="default",
                )
            )
        return out

    # -- graph -------------------------------------------------------------------------------

    def check_targets(self, specs: list[TaskSpec]) -> None:
        names = {spec.name for spec in specs}
        for spec in specs:
            for transition in spec.next:
                for index, target in enumerate(transition.do):
                    if target in names or target in RESERVED_TARGETS:
                        continue
                    hint = difflib.get_close_matches(target, sorted(names), n=1)
                    extra = f' (did you mean "{hint[0]}"?)' if hint else ""
                    if transition.origin.startswith("next["):
                        where = f"{spec.path}.{transition.origin}.do[{index}]"
                    else:
                        where = f"{spec.path}.{transition.origin}"
                    self.error(where, f'unknown task "{target}"{extra}', task=spec.name)

    def graph(self, specs: list[TaskSpec]) -> tuple[dict[str, tuple[str, ...]], list[str]]:
        names = {spec.name for spec in specs}
        inbound: dict[str, list[str]] = {spec.name: [] for spec in specs}
        for spec in specs:
            for transition in spec.next:
                for target in transition.do:
                    if target in names and spec.name not in inbound[target]:
                        inbound[target].append(spec.name)
        # A task whose only inbound transition is its own (a retry-style self loop) could never
        # start otherwise, so self-loops do not stop a task from being an entry task.
        entries = [spec.name for spec in specs if not set(inbound[spec.name]) - {spec.name}]

        if specs and not entries:
            self.error(
                "tasks",
                "no entry task: every task has an inbound transition, so none would start",
            )
        # Reachability from the entry tasks (cycles are fine; a task nothing leads to from an
        # entry is most likely a typo in some `do`).
        edges = {spec.name: [t for tr in spec.next for t in tr.do if t in names] for spec in specs}
        seen = set(entries)
        stack = list(entries)
        while stack:
            for target in edges[stack.pop()]:
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        if entries:
            for spec in specs:
                if spec.name not in seen:
                    self.warn(
                        spec.path,
                        f'task "{spec.name}" is unreachable from the entry tasks',
                        task=spec.name,
                    )

        for spec in specs:
            count = len(inbound[spec.name])
            if spec.join is None:
                continue
            if count == 0:
                self.error(
                    f"{spec.path}.join",
                    "has no inbound transition to wait for (an entry task cannot join)",
                    task=spec.name,
                )
            elif isinstance(spec.join, int) and spec.join > count:
                sources = ", ".join(inbound[spec.name])
                self.error(
                    f"{spec.path}.join",
                    f"waits for {spec.join} inbound tasks but only {count} lead here ({sources})",
                    task=spec.name,
                )
        return {name: tuple(sources) for name, sources in inbound.items()}, entries
