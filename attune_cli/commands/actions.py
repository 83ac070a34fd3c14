"""``attune action`` and ``attune run``: list and show actions, execute them.

Rules of this file:

1. Parameters are ``k=v`` words converted to the types of the action's ``param_schema``
   (``k:=<json>`` for raw JSON), on top of ``--params-json``; see
   :func:`attune_cli.app.parse_assignments`.
2. ``action execute`` returns at once (prints the execution id) unless ``--wait``;
   ``run`` waits by default. Both print the result on stdout and status on stderr, and exit 1
   when the execution did not complete.
"""

from __future__ import annotations

from typing import Any

import click

from attune_cli.app import (
    ApiGroup,
    App,
    complete_refs,
    load_json_option,
    paging,
    parse_assignments,
    pass_app,
)
from attune_cli.commands.executions import finish, wait_for
from attune_cli.output import dump

ACTION_COLUMNS = [
    ("REF", "ref"),
    ("PACK", "pack_ref"),
    ("LABEL", "label"),
    ("DESCRIPTION", "description"),
]
DEFAULT_TIMEOUT = 600.0  # seconds `run` waits: longer than the default action timeout (300 s)


@click.group(cls=ApiGroup)
def action() -> None:
    """List, show and execute actions."""


@action.command("list")
@click.option("--pack", "pack_ref", help="Only the actions of this pack.")
@paging
@pass_app
def list_(app: App, pack_ref: str | None, page: int, limit: int) -> None:
    """List actions.

    Example: attune action list --pack core
    """
    path = f"/api/v1/packs/{pack_ref}/actions" if pack_ref else "/api/v1/actions"
    result = app.client.page(path, {"page": page, "page_size": limit})
    app.out.items(result.items, ACTION_COLUMNS, pagination=result.pagination)


@action.command()
@click.argument("ref", shell_complete=complete_refs("/api/v1/actions"))
@pass_app
def show(app: App, ref: str) -> None:
    """Show an action and its parameters.

    Example: attune action show core.echo
    """
    data = app.client.get(f"/api/v1/actions/{ref}")
    app.out.item(data)
    schema = data.get("param_schema")
    if not app.out.structured and isinstance(schema, dict) and schema:
        app.out.status("parameters:\n" + dump(schema, "yaml"))


def start(app: App, ref: str, params: tuple[str, ...], params_json: str | None) -> dict[str, Any]:
    """Build the parameters and request an execution of ``ref``."""
    action_data = app.client.get(f"/api/v1/actions/{ref}")
    base = load_json_option(params_json, "--params-json")
    if base is not None and not isinstance(base, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--params-json")
    parameters = parse_assignments(params, schema=action_data.get("param_schema"), base=base)
    data: dict[str, Any] = app.client.post(
        "/api/v1/executions/execute", {"action_ref": ref, "parameters": parameters}
    )
    return data


PARAMS = click.argument("params", nargs=-1, metavar="[NAME=VALUE]...")
PARAMS_JSON = click.option(
    "--params-json", default=None, help="Parameters as a JSON object (or @file.json)."
)


@action.command()
@click.argument("ref", shell_complete=complete_refs("/api/v1/actions"))
@PARAMS
@PARAMS_JSON
@click.option("--wait", is_flag=True, help="Wait for the execution to end and print its result.")
@click.option(
    "--timeout", type=float, default=DEFAULT_TIMEOUT, help="With --wait: seconds to wait at most."
)
@pass_app
def execute(
    app: App,
    ref: str,
    params: tuple[str, ...],
    params_json: str | None,
    wait: bool,
    timeout: float,
) -> None:
    """Execute action REF with NAME=VALUE parameters.

    Without --wait, prints the execution id and returns.

    Example: attune action execute core.echo message=hello --wait
    """
    data = start(app, ref, params, params_json)
    if wait:
        finish(app, wait_for(app, data["id"], timeout))
        return
    if app.out.structured:
        app.out.item(data)
    else:
        click.echo(data["id"])
    app.out.status(f"execution {data['id']} requested; see 'attune execution watch {data['id']}'")


@click.command(cls=ApiGroup.command_class)
@click.argument("ref", shell_complete=complete_refs("/api/v1/actions"))
@PARAMS
@PARAMS_JSON
@click.option(
    "--wait/--no-wait", default=True, help="Wait for the end (default) or return at once."
)
@click.option("--timeout", type=float, default=DEFAULT_TIMEOUT, help="Seconds to wait at most.")
@pass_app
def run(
    app: App,
    ref: str,
    params: tuple[str, ...],
    params_json: str | None,
    wait: bool,
    timeout: float,
) -> None:
    """Run action (or workflow) REF and print its result; exit 1 when it fails.

    Status changes (and a workflow's tasks) are shown live on stderr.

    Example: attune run core.echo message="hello world"
    """
    data = start(app, ref, params, params_json)
    if not wait:
        if app.out.structured:
            app.out.item(data)
        else:
            click.echo(data["id"])
        return
    finish(app, wait_for(app, data["id"], timeout))
