"""``attune workflow``: list and show workflows (API); validate and run a file locally.

Rules of this file:

1. ``validate`` and ``run --local`` use the engine's own parser and conductor
   (:mod:`attune_core.workflow`) in this process: no server, no database, the same decisions
   the executor would take.
2. A local run executes no action: each dispatched task is answered with its mock
   (``--mock <action or task>=<file or JSON>``, a list of results answers successive attempts)
   or, unmocked, with an empty successful result. Delays are not waited for.
3. Every command the conductor issues is printed with its reason (``why``) and what each
   ``when`` of the finished task evaluated to; exit code 1 when the workflow fails.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from attune_cli.app import (
    ApiGroup,
    App,
    complete_refs,
    load_json_option,
    paging,
    parse_assignments,
    pass_app,
)
from attune_cli.output import short
from attune_core.workflow import (
    CancelTasks,
    Command,
    CompleteWorkflow,
    Conductor,
    DispatchTask,
    Explanation,
    FailWorkflow,
    PublishVariables,
    SetWorkflowStatus,
    TaskFinished,
    WorkflowDefinition,
    WorkflowDefinitionError,
    parse_workflow,
)

WORKFLOW_COLUMNS = [
    ("REF", "ref"),
    ("VERSION", "version"),
    ("ENABLED", "enabled"),
    ("LABEL", "label"),
    ("TAGS", "tags"),
]
MAX_STEPS = 10_000  # a local run longer than this is a loop without an exit


@click.group(cls=ApiGroup)
def workflow() -> None:
    """List, show, validate and locally run workflows."""


@workflow.command("list")
@click.option("--pack", "pack_ref", help="Only the workflows of this pack.")
@click.option("--tag", "tags", multiple=True, help="Only workflows with one of these tags.")
@paging
@pass_app
def list_(app: App, pack_ref: str | None, tags: tuple[str, ...], page: int, limit: int) -> None:
    """List workflows.

    Example: attune workflow list --pack mypack
    """
    result = app.client.page(
        "/api/v1/workflows",
        {"pack_ref": pack_ref, "tags": ",".join(tags) or None, "page": page, "page_size": limit},
    )
    app.out.items(result.items, WORKFLOW_COLUMNS, pagination=result.pagination)


@workflow.command()
@click.argument("ref", shell_complete=complete_refs("/api/v1/workflows"))
@pass_app
def show(app: App, ref: str) -> None:
    """Show a workflow and its definition.

    Example: attune workflow show mypack.deploy
    """
    app.out.item(app.client.get(f"/api/v1/workflows/{ref}"))


def _load(path: Path) -> WorkflowDefinition:
    try:
        text = path.read_text()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="FILE") from exc
    stem = path.name.split(".")[0]
    return parse_workflow(text, ref=f"local.{stem}")


@workflow.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def validate(app: App, file: Path) -> None:
    """Check a workflow file (every problem, with its line); exit 1 when it is invalid.

    Example: attune workflow validate actions/workflows/deploy.workflow.yaml
    """
    try:
        definition = _load(file)
    except WorkflowDefinitionError as exc:
        problems = [*exc.problems, *exc.warnings]
        if app.out.structured:
            app.out.item(
                {"file": str(file), "valid": False, "problems": [p.to_dict() for p in problems]}
            )
        else:
            for problem in problems:
                click.echo(f"{file}: {problem}")
        app.out.status(f"{file}: invalid ({len(exc.problems)} error(s))")
        sys.exit(1)
    warnings = list(definition.warnings)
    if app.out.structured:
        app.out.item(
            {
                "file": str(file),
                "valid": True,
                "ref": definition.ref,
                "tasks": [t.name for t in definition.tasks],
                "problems": [p.to_dict() for p in warnings],
            }
        )
    else:
        for problem in warnings:
            click.echo(f"{file}: {problem}")
        click.echo(f"{file}: valid ({len(definition.tasks)} task(s), {len(warnings)} warning(s))")


# -- local runs -------------------------------------------------------------------------------


class Mocks:
    """Mocked results by action ref or task name; lists answer successive attempts."""

    def __init__(self, specs: tuple[str, ...]) -> None:
        self._results: dict[str, list[Any]] = {}
        self._used: collections.Counter[str] = collections.Counter()
        for spec in specs:
            name, sep, value = spec.partition("=")
            if not sep or not name:
                raise click.BadParameter(
                    f"{spec!r}: write NAME=FILE or NAME=JSON", param_hint="--mock"
                )
            self._results[name] = self._read(value)

    @staticmethod
    def _read(value: str) -> list[Any]:
        path = Path(value)
        try:
            data = yaml.safe_load(path.read_text()) if path.is_file() else json.loads(value)
        except (ValueError, yaml.YAMLError) as exc:
            raise click.BadParameter(
                f"{value!r}: not a readable file nor JSON ({exc})", param_hint="--mock"
            ) from exc
        return data if isinstance(data, list) else [data]

    def answer(self, dispatch: DispatchTask) -> tuple[str, Any, str]:
        """``(status, result, source)`` for a dispatched task."""
        for name in (dispatch.task, dispatch.action):
            if name in self._results:
                results = self._results[name]
                index = min(self._used[name], len(results) - 1)
                self._used[name] += 1
                return (*_status_and_result(results[index]), f"mock {name}")
        return "completed", {"succeeded": True}, "not mocked: succeeds with an empty result"


def _status_and_result(doc: Any) -> tuple[str, Any]:
    if isinstance(doc, dict) and set(doc) <= {"status", "result"} and "status" in doc:
        return str(doc["status"]), doc.get("result")
    if isinstance(doc, dict) and doc.get("succeeded") is False:
        return "failed", doc
    return "completed", doc


def _why_lines(why: Explanation) -> list[str]:
    lines = [f"    why: {why.message}"]
    for ev in why.evaluations:
        value = "error: " + ev.error if ev.error else str(ev.value).lower()
        when = ev.when if ev.when is not None else "(always)"
        lines.append(
            f"      {ev.transition} when {when} -> {value}" + (" (fired)" if ev.fired else "")
        )
    return lines


def _describe(command: Command) -> tuple[str, dict[str, Any]]:
    name = type(command).__name__
    data: dict[str, Any] = {"command": name, "why": command.why.to_dict()}
    if isinstance(command, DispatchTask):
        item = f" item {command.item_index}" if command.item_index is not None else ""
        retry = f" retry {command.attempt}" if command.attempt else ""
        delay = f" after {command.delay:g} s (not waited for)" if command.delay else ""
        data |= {
            "task": command.task,
            "run": command.run,
            "action": command.action,
            "input": command.input,
            "item_index": command.item_index,
            "attempt": command.attempt,
        }
        text = (
            f"dispatch {command.task}{item}{retry}: {command.action} "
            f"{short(command.input, 200)}{delay}"
        )
    elif isinstance(command, PublishVariables):
        data |= {"task": command.task, "variables": command.variables}
        text = f"publish {short(command.variables, 200)}"
    elif isinstance(command, CancelTasks):
        data |= {"runs": [r.task for r in command.runs]}
        text = f"cancel {', '.join(r.task for r in command.runs)}"
    elif isinstance(command, SetWorkflowStatus):
        data |= {"status": str(command.status)}
        text = f"workflow {command.status}"
    elif isinstance(command, CompleteWorkflow):
        data |= {"status": str(command.status), "output": command.output}
        text = f"workflow {command.status}, output {short(command.output, 200)}"
    else:
        assert isinstance(command, FailWorkflow)
        data |= {"status": "failed", "reason": command.reason, "output": command.output}
        text = f"workflow failed: {command.reason}"
    return text, data


def run_local(
    definition: WorkflowDefinition,
    parameters: dict[str, Any],
    mocks: Mocks,
    echo: Any,
) -> dict[str, Any]:
    """Conduct ``definition`` to its end, answering dispatches with ``mocks``.

    Args:
        definition: The workflow.
        parameters: Its input parameters.
        mocks: Results for the dispatched tasks.
        echo: Called with each line of the trace (``None`` to stay silent).

    Returns:
        ``{"status", "output", "variables", "steps"}``.
    """
    conductor = Conductor(definition)
    now = dt.datetime.now(dt.UTC).isoformat()
    pending = collections.deque(
        conductor.start(parameters, {"workflow_start": now, "execution_id": 0})
    )
    steps: list[dict[str, Any]] = []
    status, output = "running", {}
    while pending:
        if len(steps) > MAX_STEPS:
            raise click.ClickException(f"stopped after {MAX_STEPS} steps: the workflow loops")
        command = pending.popleft()
        text, data = _describe(command)
        steps.append(data)
        if echo:
            echo(text)
            for line in _why_lines(command.why):
                echo(line)
        if isinstance(command, DispatchTask):
            task_status, result, source = mocks.answer(command)
            steps.append(
                {
                    "command": "TaskFinished",
                    "task": command.task,
                    "status": task_status,
                    "result": result,
                    "source": source,
                }
            )
            if echo:
                echo(f"  {command.task} {task_status} ({source}): {short(result, 200)}")
            pending.extend(
                conductor.handle(
                    TaskFinished(
                        command.task,
                        task_status,
                        result,
                        item_index=command.item_index,
                        run=command.run,
                        attempt=command.attempt,
                    )
                )
            )
        elif isinstance(command, CompleteWorkflow | FailWorkflow):
            status = "failed" if isinstance(command, FailWorkflow) else str(command.status)
            output = command.output
    return {
        "status": status,
        "output": output,
        "variables": dict(conductor.variables),
        "steps": steps,
    }


@workflow.command()
@click.argument("target")
@click.argument("params", nargs=-1, metavar="[NAME=VALUE]...")
@click.option(
    "--local",
    "local",
    is_flag=True,
    help="TARGET is a workflow file, run here with the embedded conductor.",
)
@click.option(
    "--mock",
    "mocks",
    multiple=True,
    metavar="NAME=RESULT",
    help="With --local: result of an action or task (a JSON/YAML file or inline "
    "JSON; a list answers successive attempts). Repeatable.",
)
@click.option("--params-json", default=None, help="Parameters as a JSON object (or @file).")
@click.option("--timeout", type=float, default=600.0, help="Without --local: seconds to wait.")
@pass_app
def run(
    app: App,
    target: str,
    params: tuple[str, ...],
    local: bool,
    mocks: tuple[str, ...],
    params_json: str | None,
    timeout: float,
) -> None:
    """Run a workflow: a file locally (--local) or a registered workflow on the server.

    Example: attune workflow run --local deploy.yaml env=prod --mock mypack.build=build.json
    """
    if not local:
        from attune_cli.commands.actions import start
        from attune_cli.commands.executions import finish, wait_for

        data = start(app, target, params, params_json)
        finish(app, wait_for(app, data["id"], timeout))
        return
    path = Path(target)
    if not path.is_file():
        raise click.BadParameter(f"{target} is not a file", param_hint="TARGET")
    definition = _load(path)
    base = load_json_option(params_json, "--params-json")
    parameters = parse_assignments(params, schema=_param_schema(definition), base=base)
    echo = None if app.out.structured else click.echo
    outcome = run_local(definition, parameters, Mocks(mocks), echo)
    if app.out.structured:
        app.out.item(outcome)
    app.out.status(f"workflow {definition.ref} {outcome['status']} (local run)")
    if outcome["status"] != "completed":
        sys.exit(1)


def _param_schema(definition: WorkflowDefinition) -> dict[str, Any]:
    return {name: dict(spec) for name, spec in definition.parameters.items()}
