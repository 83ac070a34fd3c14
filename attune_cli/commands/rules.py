"""``attune rule``: list, show, create, update, enable, disable, delete rules.

Rule: ``create``/``update`` take a definition file (YAML or JSON, the API's rule fields) and/or
options; options override the file's fields, so a file can be a template.
"""

from __future__ import annotations

import json
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

RULE_COLUMNS = [
    ("REF", "ref"),
    ("TRIGGER", "trigger_ref"),
    ("ACTION", "action_ref"),
    ("ENABLED", "enabled"),
    ("DESCRIPTION", "description"),
]


@click.group(cls=ApiGroup)
def rule() -> None:
    """Manage rules (trigger + criteria -> action)."""


@rule.command("list")
@click.option("--pack", "pack_ref", help="Only the rules of this pack.")
@click.option("--enabled", "only_enabled", is_flag=True, help="Only enabled rules.")
@paging
@pass_app
def list_(app: App, pack_ref: str | None, only_enabled: bool, page: int, limit: int) -> None:
    """List rules.

    Example: attune rule list --enabled
    """
    path = "/api/v1/rules/enabled" if only_enabled else "/api/v1/rules"
    if pack_ref:
        path = f"/api/v1/packs/{pack_ref}/rules"
    result = app.client.page(path, {"page": page, "page_size": limit})
    items = [r for r in result.items if r.get("enabled")] if only_enabled else result.items
    app.out.items(items, RULE_COLUMNS, pagination=result.pagination)


@rule.command()
@click.argument("ref", shell_complete=complete_refs("/api/v1/rules"))
@pass_app
def show(app: App, ref: str) -> None:
    """Show a rule.

    Example: attune rule show mypack.on_push
    """
    app.out.item(app.client.get(f"/api/v1/rules/{ref}"))


def read_definition(path: Path | None) -> dict[str, Any]:
    """A YAML/JSON definition file as a mapping (empty without a file)."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--file") from exc
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path} must hold a mapping", param_hint="--file")
    return data


def _rule_body(
    file: Path | None,
    ref: str | None,
    trigger: str | None,
    action_ref: str | None,
    label: str | None,
    description: str | None,
    params: tuple[str, ...],
    conditions: str | None,
    trigger_params: str | None,
    enabled: bool | None,
) -> dict[str, Any]:
    body = read_definition(file)
    given = {
        "ref": ref,
        "trigger_ref": trigger,
        "action_ref": action_ref,
        "label": label,
        "description": description,
        "enabled": enabled,
        "conditions": load_json_option(conditions, "--conditions"),
        "trigger_params": load_json_option(trigger_params, "--trigger-params"),
    }
    body.update({k: v for k, v in given.items() if v is not None})
    if params:
        body["action_params"] = parse_assignments(params, base=body.get("action_params"))
    if body.get("ref") and "." in body["ref"]:
        body.setdefault("pack_ref", body["ref"].split(".", 1)[0])
        body.setdefault("label", body["ref"].split(".", 1)[1])
    return body


RULE_OPTIONS = [
    click.option(
        "--file",
        "-f",
        type=click.Path(exists=True, path_type=Path),
        help="Rule definition (YAML or JSON).",
    ),
    click.option("--trigger", help="Trigger ref."),
    click.option("--action", "action_ref", help="Action ref."),
    click.option("--label", help="Label."),
    click.option("--description", help="Description."),
    click.option(
        "--param",
        "params",
        multiple=True,
        metavar="NAME=VALUE",
        help="An action parameter (repeatable; templates like {{ event.payload.x }}).",
    ),
    click.option("--conditions", help='Criteria as JSON (a list or {"expression": ...}).'),
    click.option("--trigger-params", help="Trigger parameters as JSON (timers)."),
    click.option("--enabled/--disabled", default=None, help="Enable or disable the rule."),
]


def rule_options(f: Any) -> Any:
    """Attach the rule definition options."""
    for option in reversed(RULE_OPTIONS):
        f = option(f)
    return f


@rule.command()
@click.argument("ref", required=False)
@rule_options
@pass_app
def create(app: App, ref: str | None, file: Path | None, **fields: Any) -> None:
    """Create a rule from options and/or a definition file.

    Example: attune rule create mypack.greet --trigger core.webhook --action core.echo
    --param message="{{ event.payload.name }}"
    """
    body = _rule_body(file, ref, **fields)
    data = app.client.post("/api/v1/rules", body)
    app.out.done(f"rule {data['ref']} created", data)


@rule.command()
@click.argument("ref", shell_complete=complete_refs("/api/v1/rules"))
@rule_options
@pass_app
def update(app: App, ref: str, file: Path | None, **fields: Any) -> None:
    """Change a rule's fields (only those given; --param adds to the existing parameters).

    Example: attune rule update mypack.greet --param message=hi --disabled
    """
    if fields.get("params"):  # --param adds to (or replaces single) existing parameters
        current = app.client.get(f"/api/v1/rules/{ref}").get("action_params") or {}
        fields["params"] = (
            *(f"{k}:={json.dumps(v)}" for k, v in current.items()),
            *fields["params"],
        )
    body = _rule_body(file, None, **fields)
    body.pop("ref", None)
    data = app.client.put(f"/api/v1/rules/{ref}", body)
    app.out.done(f"rule {ref} updated", data)


@rule.command()
@click.argument("ref", shell_complete=complete_refs("/api/v1/rules"))
@pass_app
def enable(app: App, ref: str) -> None:
    """Enable a rule.

    Example: attune rule enable mypack.greet
    """
    app.out.done(f"rule {ref} enabled", app.client.post(f"/api/v1/rules/{ref}/enable", {}))


@rule.command()
@click.argument("ref", shell_complete=complete_refs("/api/v1/rules"))
@pass_app
def disable(app: App, ref: str) -> None:
    """Disable a rule.

    Example: attune rule disable mypack.greet
    """
    app.out.done(f"rule {ref} disabled", app.client.post(f"/api/v1/rules/{ref}/disable", {}))


@rule.command()
@click.argument("ref", shell_complete=complete_refs("/api/v1/rules"))
@pass_app
def delete(app: App, ref: str) -> None:
    """Delete a rule.

    Example: attune rule delete mypack.greet
    """
    data = app.client.delete(f"/api/v1/rules/{ref}")
    app.out.done(data.get("message") or f"rule {ref} deleted", data)
