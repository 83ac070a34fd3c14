"""``attune inquiry``: list, show and respond to inquiries (a workflow waiting for a human).

Rule: ``respond`` asks one question per field of the inquiry's ``response_schema`` (flat
format or JSON Schema ``properties``) with the field's type (yes/no for booleans, a choice for
enums); ``--response-json`` answers without questions, for scripts. The API validates the
answer against the schema (422 is exit code 1 with its message).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click

from attune_cli.app import ApiGroup, App, load_json_option, paging, pass_app

INQUIRY_COLUMNS = [
    ("ID", "id"),
    ("EXECUTION", "execution"),
    ("STATUS", "status"),
    ("PROMPT", "prompt"),
    ("ASSIGNED TO", "assigned_to"),
    ("TIMEOUT AT", "timeout_at"),
    ("CREATED", "created"),
]


@click.group(cls=ApiGroup)
def inquiry() -> None:
    """List and answer inquiries."""


@inquiry.command("list")
@click.option(
    "--status",
    type=click.Choice(["pending", "responded", "timeout", "cancelled"]),
    help="Only inquiries in this status.",
)
@click.option("--execution", "execution_id", type=int, help="Only inquiries of this execution.")
@paging
@pass_app
def list_(app: App, status: str | None, execution_id: int | None, page: int, limit: int) -> None:
    """List inquiries, newest first.

    Example: attune inquiry list --status pending
    """
    result = app.client.page(
        "/api/v1/inquiries",
        {"status": status, "execution": execution_id, "page": page, "page_size": limit},
    )
    app.out.items(result.items, INQUIRY_COLUMNS, pagination=result.pagination)


@inquiry.command()
@click.argument("inquiry_id", type=int)
@pass_app
def show(app: App, inquiry_id: int) -> None:
    """Show an inquiry (prompt, response schema, response).

    Example: attune inquiry show 5
    """
    app.out.item(app.client.get(f"/api/v1/inquiries/{inquiry_id}"))


def schema_fields(schema: Any) -> list[tuple[str, dict[str, Any], bool]]:
    """``(name, spec, required)`` of each field of a response schema."""
    if not isinstance(schema, Mapping):
        return []
    if "properties" in schema:
        required = set(schema.get("required") or [])
        properties = schema.get("properties") or {}
        return [(str(n), dict(s or {}), n in required) for n, s in properties.items()]
    return [
        (str(n), dict(s), bool(s.get("required"))) for n, s in schema.items() if isinstance(s, dict)
    ]


def ask(name: str, spec: Mapping[str, Any], required: bool) -> Any:
    """Ask for one field on the terminal, typed by its schema."""
    label = spec.get("description") or spec.get("title") or name
    kind = spec.get("type")
    default = spec.get("default")
    if spec.get("enum"):
        choices = [str(v) for v in spec["enum"]]
        answer = click.prompt(label, type=click.Choice(choices), default=default, err=True)
        return next(v for v in spec["enum"] if str(v) == answer)
    if kind == "boolean":
        return click.confirm(label, default=default, err=True)
    if kind in ("integer", "number"):
        return click.prompt(
            label, type=int if kind == "integer" else float, default=default, err=True
        )
    if kind in ("array", "object"):
        text = click.prompt(
            f"{label} (JSON)", default=json.dumps(default) if default else None, err=True
        )
        return json.loads(text)
    if default is None and not required:
        default = ""
    return click.prompt(label, default=default, err=True, show_default=True)


@inquiry.command()
@click.argument("inquiry_id", type=int)
@click.option("--response-json", help="The response as a JSON object (or @file); no questions.")
@pass_app
def respond(app: App, inquiry_id: int, response_json: str | None) -> None:
    """Answer inquiry INQUIRY_ID (asks for each field of its response schema).

    Example: attune inquiry respond 5 --response-json '{"approved": true}'
    """
    response = load_json_option(response_json, "--response-json")
    if response is None:
        data = app.client.get(f"/api/v1/inquiries/{inquiry_id}")
        click.echo(data.get("prompt") or f"inquiry {inquiry_id}", err=True)
        fields = schema_fields(data.get("response_schema"))
        if fields:
            response = {name: ask(name, spec, req) for name, spec, req in fields}
        else:
            text = click.prompt("Response (JSON object)", default="{}", err=True)
            response = load_json_option(text, "response")
    data = app.client.post(f"/api/v1/inquiries/{inquiry_id}/respond", {"response": response})
    app.out.done(f"inquiry {inquiry_id} {data.get('status', 'responded')}", data)
