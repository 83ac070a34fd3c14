"""``attune execution``: list, show, logs, watch, cancel, rerun, result; waiting for an end.

Rules of this file:

1. Waiting (:func:`wait_for`) polls the execution (and, for a workflow, its children) and
   prints each status change on stderr as it happens; the data (the result) goes to stdout
   only once the execution ended.
2. Exit codes: 0 when the execution completed, 1 when it ended otherwise (failed, timeout,
   cancelled, abandoned), 6 when ``--timeout`` ran out first (the execution goes on).
3. ``logs --follow`` follows the API's log stream (server-sent events) until the execution ends.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any

import click

from attune_cli.app import ApiGroup, App, paging, pass_app
from attune_cli.client import ApiError
from attune_cli.commands.workers import worker_id

TERMINAL = {"completed", "failed", "cancelled", "timeout", "abandoned"}
STATUSES = [
    "requested",
    "scheduling",
    "scheduled",
    "running",
    "completed",
    "failed",
    "canceling",
    "cancelled",
    "timeout",
    "abandoned",
]
POLL_START, POLL_MAX = 0.1, 1.0  # seconds: quick first polls for short actions, then 1 s

EXECUTION_COLUMNS = [
    ("ID", "id"),
    ("ACTION", "action_ref"),
    ("STATUS", "status"),
    ("PARENT", "parent"),
    ("TASK", "workflow_task.task_name"),
    ("RULE", "rule_ref"),
    ("CREATED", "created"),
    ("UPDATED", "updated"),
]


@click.group(cls=ApiGroup)
def execution() -> None:
    """Inspect and control executions."""


def _task_label(child: Mapping[str, Any]) -> str:
    task = child.get("workflow_task") or {}
    name = task.get("task_name") or child.get("action_ref")
    index = task.get("task_index")
    return f"{name}[{index}]" if index is not None else str(name)


def wait_for(app: App, execution_id: int, timeout: float | None) -> dict[str, Any]:
    """Wait until the execution ends, printing status changes on stderr.

    Args:
        app: The invocation.
        execution_id: The execution.
        timeout: Seconds to wait at most (``None``: no limit).

    Returns:
        The finished execution.

    Raises:
        ApiError: ``TIMEOUT`` when ``timeout`` ran out first.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    seen: dict[int, str] = {}
    delay = POLL_START
    while True:
        data: dict[str, Any] = app.client.get(f"/api/v1/executions/{execution_id}")
        if seen.get(execution_id) != data["status"]:
            seen[execution_id] = data["status"]
            app.out.status(f"execution {execution_id} ({data['action_ref']}): {data['status']}")
        if data.get("action") is not None and _is_workflow(app, data):
            children = app.client.page(
                "/api/v1/executions", {"parent": execution_id, "page_size": 100}
            ).items
            for child in sorted(children, key=lambda c: c["id"]):
                if seen.get(child["id"]) != child["status"]:
                    seen[child["id"]] = child["status"]
                    app.out.status(
                        f"  task {_task_label(child)} (execution {child['id']}, "
                        f"{child['action_ref']}): {child['status']}"
                    )
        if data["status"] in TERMINAL:
            return data
        if deadline is not None and time.monotonic() >= deadline:
            raise ApiError(
                f"execution {execution_id} is still {data['status']} after {timeout:g} s "
                f"(it goes on; see 'attune execution watch {execution_id}')",
                code="TIMEOUT",
            )
        time.sleep(delay)
        delay = min(delay * 1.5, POLL_MAX)


_WORKFLOW_CACHE: dict[str, bool] = {}


def _is_workflow(app: App, data: Mapping[str, Any]) -> bool:
    ref = str(data["action_ref"])
    if ref not in _WORKFLOW_CACHE:
        try:
            action = app.client.get(f"/api/v1/actions/{ref}")
            _WORKFLOW_CACHE[ref] = bool(action.get("workflow_def"))
        except ApiError:
            _WORKFLOW_CACHE[ref] = False
    return _WORKFLOW_CACHE[ref]


def finish(app: App, data: Mapping[str, Any], *, result_only: bool = True) -> None:
    """Print a finished execution (its result in tables, all of it with -o json|yaml) and
    exit 1 unless it completed."""
    status = data["status"]
    if app.out.structured:
        app.out.item(dict(data))
    elif result_only:
        app.out.raw(data.get("result"))
    else:
        app.out.item(dict(data))
    app.out.status(f"execution {data['id']} {status}" + _reason(data))
    if status != "completed":
        sys.exit(1)


def _reason(data: Mapping[str, Any]) -> str:
    result = data.get("result")
    if data["status"] != "completed" and isinstance(result, Mapping) and result.get("error"):
        return f": {result['error']}"
    return ""


@execution.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only executions in this status.")
@click.option("--action", "action_ref", help="Only executions of this action ref.")
@click.option("--rule", "rule_ref", help="Only executions requested by this rule ref.")
@click.option("--parent", type=int, help="Only the children of this (workflow) execution.")
@click.option("--top-level", is_flag=True, help="Only executions without a parent.")
@click.option("--worker", "worker", help="Only executions placed on this worker (id or name).")
@paging
@pass_app
def list_(
    app: App,
    status: str | None,
    action_ref: str | None,
    rule_ref: str | None,
    parent: int | None,
    top_level: bool,
    worker: str | None,
    page: int,
    limit: int,
) -> None:
    """List executions, newest first.

    Example: attune execution list --status running --worker worker-1
    """
    result = app.client.page(
        "/api/v1/executions",
        {
            "status": status,
            "action_ref": action_ref,
            "rule_ref": rule_ref,
            "parent": parent,
            "worker": None if worker is None else worker_id(app, worker),
            "top_level_only": True if top_level else None,
            "page": page,
            "page_size": limit,
        },
    )
    app.out.items(result.items, EXECUTION_COLUMNS, pagination=result.pagination)


@execution.command()
@click.argument("execution_id", type=int)
@pass_app
def show(app: App, execution_id: int) -> None:
    """Show an execution (parameters, status, result).

    Example: attune execution show 42
    """
    app.out.item(app.client.get(f"/api/v1/executions/{execution_id}"))


@execution.command()
@click.argument("execution_id", type=int)
@pass_app
def result(app: App, execution_id: int) -> None:
    """Print an execution's result only.

    Example: attune execution result 42 -j
    """
    data = app.client.get(f"/api/v1/executions/{execution_id}")
    app.out.raw(data.get("result"))


@execution.command()
@click.argument("execution_id", type=int)
@click.option(
    "--stream", type=click.Choice(["stdout", "stderr"]), default="stdout", help="Which log."
)
@click.option(
    "--follow", "-f", is_flag=True, help="Print the output as it comes until the execution ends."
)
@pass_app
def logs(app: App, execution_id: int, stream: str, follow: bool) -> None:
    """Print an execution's stdout (or stderr); what it printed so far while it runs.

    Example: attune execution logs 42 --follow
    """
    if follow:
        _follow_log(app, execution_id, stream)
        return
    data = app.client.get(f"/api/v1/executions/{execution_id}/logs/{stream}")
    _print_log(app, execution_id, stream, data.get("content") or "", data.get("truncated"))


def _follow_log(app: App, execution_id: int, stream: str) -> None:
    """Print the chunks of the log's SSE stream as they come (text output), then what the whole
    log adds to them; structured output gets the whole log once the execution ended."""
    app.client.get(f"/api/v1/executions/{execution_id}")  # 404 and token refresh up front
    app.out.status(f"following the {stream} of execution {execution_id}...")
    printed = ""
    final: dict[str, Any] | None = None
    for frame in app.client.sse(f"/api/v1/executions/{execution_id}/logs/{stream}/stream"):
        if "status" in frame:  # the whole log, once the execution ended
            final = frame
        elif not app.out.structured and frame.get("offset") == len(printed):
            content = str(frame.get("content") or "")
            click.echo(content, nl=False)
            printed += content
    if final is None:  # the stream was cut: the log endpoint has the text
        final = app.client.get(f"/api/v1/executions/{execution_id}/logs/{stream}")
    content = str(final.get("content") or "")
    if app.out.structured or not content.startswith(printed):
        if printed:
            click.echo()
        _print_log(app, execution_id, stream, content, final.get("truncated"))
        return
    rest = content[len(printed) :]
    if rest:
        click.echo(rest, nl=False)
    if content and not content.endswith("\n"):
        click.echo()
    if final.get("truncated"):
        app.out.status("(the log was truncated by the server)")


def _print_log(app: App, execution_id: int, stream: str, content: str, truncated: Any) -> None:
    if app.out.structured:
        app.out.item(
            {
                "execution_id": execution_id,
                "stream": stream,
                "content": content,
                "truncated": bool(truncated),
            }
        )
        return
    if content:
        app.out.text(content)
    if truncated:
        app.out.status("(the log was truncated by the server)")


@execution.command()
@click.argument("execution_id", type=int)
@click.option("--timeout", type=float, default=None, help="Give up after this many seconds.")
@pass_app
def watch(app: App, execution_id: int, timeout: float | None) -> None:
    """Follow an execution (and its workflow tasks) live until it ends; exit 1 unless it
    completed.

    Example: attune execution watch 42
    """
    finish(app, wait_for(app, execution_id, timeout))


@execution.command()
@click.argument("execution_id", type=int)
@pass_app
def cancel(app: App, execution_id: int) -> None:
    """Cancel an execution (a workflow cancels its running tasks).

    Example: attune execution cancel 42
    """
    data = app.client.post(f"/api/v1/executions/{execution_id}/cancel", {})
    app.out.done(f"execution {execution_id}: {data.get('status', 'canceling')}", data)


@execution.command()
@click.argument("execution_id", type=int)
@click.option("--wait/--no-wait", default=False, help="Wait for the new execution to end.")
@click.option("--timeout", type=float, default=None, help="With --wait: seconds to wait at most.")
@pass_app
def rerun(app: App, execution_id: int, wait: bool, timeout: float | None) -> None:
    """Run an execution's action again with the same parameters.

    Example: attune execution rerun 42 --wait
    """
    data = app.client.post(f"/api/v1/executions/{execution_id}/rerun", {})
    if wait:
        finish(app, wait_for(app, data["id"], timeout))
        return
    app.out.done(f"execution {data['id']} requested (rerun of {execution_id})", data)
    if not app.out.structured:
        click.echo(data["id"])
