"""``attune auth``: log in and out, see who you are, refresh the token.

Rule: tokens only ever go to :class:`~attune_cli.profiles.ProfileStore` (0600 file); the
password is never stored and never echoed.
"""

from __future__ import annotations

import click

from attune_cli.app import ApiGroup, App, pass_app
from attune_cli.client import ApiError


@click.group(cls=ApiGroup)
def auth() -> None:
    """Log in to the API and manage the stored tokens."""


@auth.command()
@click.option("--username", "-u", envvar="ATTUNE_USERNAME", show_envvar=True, help="Login.")
@click.option(
    "--password",
    "-p",
    envvar="ATTUNE_PASSWORD",
    show_envvar=True,
    help="Password (prompted, hidden, when not given).",
)
@pass_app
def login(app: App, username: str | None, password: str | None) -> None:
    """Log in and store the tokens for the current profile (prompts for what is missing).

    Example: attune auth login --username test@attune.local
    """
    if not username:
        username = click.prompt("Username", default=app.profile.username or None, err=True)
    if not password:
        password = click.prompt("Password", hide_input=True, err=True)
    client = app.client
    client.access_token = client.refresh_token = None
    data = client.post("/auth/login", {"login": username, "password": password})
    user = data.get("user") or {}
    app.save_tokens(data["access_token"], data.get("refresh_token"), user.get("login", username))
    app.out.done(
        f"logged in as {user.get('login', username)} at {app.api_url} (profile {app.profile_name})",
        user,
    )


@auth.command()
@pass_app
def logout(app: App) -> None:
    """Forget the tokens of the current profile.

    Example: attune auth logout
    """
    if app.store.forget_tokens(app.profile_name):
        app.out.status(f"logged out (profile {app.profile_name})")
    else:
        app.out.status(f"not logged in (profile {app.profile_name})")


@auth.command()
@pass_app
def whoami(app: App) -> None:
    """Show the identity the stored token belongs to.

    Example: attune auth whoami
    """
    if app.client.access_token is None:
        raise ApiError("not logged in: run 'attune auth login'", code="UNAUTHORIZED")
    app.out.item(app.client.get("/auth/me"))


@auth.command()
@pass_app
def refresh(app: App) -> None:
    """Exchange the refresh token for a new token pair now.

    Example: attune auth refresh
    """
    data = app.client.refresh()
    app.out.done(
        f"token refreshed; valid for {data.get('expires_in', '?')} s",
        {"token_type": data.get("token_type"), "expires_in": data.get("expires_in")},
    )
