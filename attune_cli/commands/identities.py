"""``attune identity`` (API part) and ``attune permission``: identities, roles, permission sets.

Rules of this file:

1. ``attune identity create`` works on the database (the first administrator) and lives in
   :mod:`attune_cli.commands.identity`; the commands here extend that same group and talk to
   the API, so they need a login with the permission to manage identities.
2. An identity is named by its id or its login (looked up through the list endpoint).
"""

from __future__ import annotations

from typing import Any

import click

from attune_cli.app import ApiCommand, ApiGroup, App, paging, pass_app
from attune_cli.client import ApiError
from attune_cli.commands.identity import identity
from attune_cli.output import Column

IDENTITY_COLUMNS: list[Column] = [
    ("ID", "id"),
    ("LOGIN", "login"),
    ("DISPLAY NAME", "display_name"),
    ("ROLES", lambda i: ", ".join(i.get("roles") or [])),
    ("FROZEN", "frozen"),
    ("CREATED", "created"),
]
SET_COLUMNS: list[Column] = [
    ("ID", "id"),
    ("REF", "ref"),
    ("LABEL", "label"),
    ("GRANTS", lambda s: len(s.get("grants") or [])),
    ("DESCRIPTION", "description"),
]


def identity_id(app: App, who: str) -> int:
    """The id of an identity given by id or login."""
    if who.isdigit():
        return int(who)
    page = 1
    while True:
        result = app.client.page("/api/v1/identities", {"page": page, "page_size": 100})
        for item in result.items:
            if item.get("login") == who:
                return int(item["id"])
        if not result.pagination.get("has_next"):
            raise ApiError(f"no identity with login {who!r}", code="NOT_FOUND", status=404)
        page += 1


@identity.command("list", cls=ApiCommand)
@paging
@pass_app
def identity_list(app: App, page: int, limit: int) -> None:
    """List identities (API).

    Example: attune identity list
    """
    result = app.client.page("/api/v1/identities", {"page": page, "page_size": limit})
    app.out.items(result.items, IDENTITY_COLUMNS, pagination=result.pagination)


@identity.command("show", cls=ApiCommand)
@click.argument("who")
@pass_app
def identity_show(app: App, who: str) -> None:
    """Show an identity by id or login (API).

    Example: attune identity show ops@example.com
    """
    app.out.item(app.client.get(f"/api/v1/identities/{identity_id(app, who)}"))


@identity.command("update", cls=ApiCommand)
@click.argument("who")
@click.option("--display-name", default=None, help="New display name.")
@click.option("--password", default=None, help="New password.")
@pass_app
def identity_update(app: App, who: str, display_name: str | None, password: str | None) -> None:
    """Change an identity's display name or password (API).

    Example: attune identity update 7 --display-name "Ops team"
    """
    body: dict[str, Any] = {"display_name": display_name, "password": password}
    body = {k: v for k, v in body.items() if v is not None}
    if not body:
        raise click.UsageError("nothing to change: give --display-name and/or --password")
    data = app.client.put(f"/api/v1/identities/{identity_id(app, who)}", body)
    app.out.done(f"identity {data.get('login', who)} updated", data)


@identity.command("delete", cls=ApiCommand)
@click.argument("who")
@pass_app
def identity_delete(app: App, who: str) -> None:
    """Delete an identity (API).

    Example: attune identity delete 7
    """
    data = app.client.delete(f"/api/v1/identities/{identity_id(app, who)}")
    app.out.done(data.get("message") or f"identity {who} deleted", data)


@identity.command("freeze", cls=ApiCommand)
@click.argument("who")
@pass_app
def identity_freeze(app: App, who: str) -> None:
    """Freeze an identity: its tokens stop working until unfrozen (API).

    Example: attune identity freeze 7
    """
    data = app.client.post(f"/api/v1/identities/{identity_id(app, who)}/freeze", {})
    app.out.done(f"identity {who} frozen", data)


@identity.command("unfreeze", cls=ApiCommand)
@click.argument("who")
@pass_app
def identity_unfreeze(app: App, who: str) -> None:
    """Unfreeze an identity (API).

    Example: attune identity unfreeze 7
    """
    data = app.client.post(f"/api/v1/identities/{identity_id(app, who)}/unfreeze", {})
    app.out.done(f"identity {who} unfrozen", data)


@identity.command("permissions", cls=ApiCommand)
@click.argument("who")
@pass_app
def identity_permissions(app: App, who: str) -> None:
    """Show an identity's roles and effective grants (API).

    Example: attune identity permissions 7
    """
    app.out.item(app.client.get(f"/api/v1/identities/{identity_id(app, who)}/permissions"))


@click.group(cls=ApiGroup)
def permission() -> None:
    """Permission sets (roles) and their assignments."""


@permission.command("list")
@paging
@pass_app
def permission_list(app: App, page: int, limit: int) -> None:
    """List permission sets (roles).

    Example: attune permission list
    """
    result = app.client.page("/api/v1/permissions/sets", {"page": page, "page_size": limit})
    app.out.items(result.items, SET_COLUMNS, pagination=result.pagination)


@permission.command("show")
@click.argument("ref")
@pass_app
def permission_show(app: App, ref: str) -> None:
    """Show a permission set and its grants (by ref or id).

    Example: attune permission show core.viewer
    """
    result = app.client.page("/api/v1/permissions/sets", {"page_size": 100})
    for item in result.items:
        if item.get("ref") == ref or str(item.get("id")) == ref:
            app.out.item(item)
            return
    raise ApiError(f"no permission set {ref!r}", code="NOT_FOUND", status=404)


@permission.command("grant")
@click.argument("who")
@click.argument("role")
@pass_app
def permission_grant(app: App, who: str, role: str) -> None:
    """Give identity WHO (id or login) the permission set ROLE (e.g. core.viewer).

    Example: attune permission grant ops@example.com core.executor
    """
    data = app.client.post(
        f"/api/v1/identities/{identity_id(app, who)}/roles", {"permission_set_ref": role}
    )
    app.out.done(f"{who} now has {role} (assignment {data.get('id')})", data)


@permission.command("revoke")
@click.argument("assignment_id", type=int)
@pass_app
def permission_revoke(app: App, assignment_id: int) -> None:
    """Remove a role assignment (its id is shown by 'grant').

    Example: attune permission revoke 12
    """
    data = app.client.delete(f"/api/v1/permissions/assignments/{assignment_id}")
    app.out.done(data.get("message") or f"assignment {assignment_id} removed", data)
