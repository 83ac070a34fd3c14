"""``attune config``: profiles (``cli.yaml``) and which one is in use.

Rule: these commands never talk to the API; they read and write the files of
:mod:`attune_cli.profiles` only, so they work with no server running.
"""

from __future__ import annotations

import click

from attune_cli.app import ApiGroup, App, pass_app
from attune_cli.output import FORMATS
from attune_cli.profiles import Profile


@click.group(cls=ApiGroup)
def config() -> None:
    """Manage CLI profiles (API URL, default user, output format)."""


@config.command("profiles")
@pass_app
def profiles(app: App) -> None:
    """List the profiles; the current one is marked with *.

    Example: attune config profiles
    """
    current = app.profile_name
    rows = []
    for profile in app.store.profiles():
        # The current profile is shown with the URL in effect (--api-url, $ATTUNE_API_URL).
        url = app.api_url if profile.name == current else profile.api_url
        tokens = app.store.tokens(profile.name, url)
        rows.append(
            {
                "current": profile.name == current,
                "name": profile.name,
                "api_url": url,
                "username": profile.username,
                "logged_in_as": tokens.login if tokens else None,
                "output": profile.output,
            }
        )
    app.out.items(
        rows,
        [
            ("", lambda r: "*" if r["current"] else ""),
            ("NAME", "name"),
            ("API URL", "api_url"),
            ("LOGGED IN AS", "logged_in_as"),
            ("OUTPUT", "output"),
        ],
    )


@config.command("use")
@click.argument("name")
@pass_app
def use(app: App, name: str) -> None:
    """Make NAME the current profile.

    Example: attune config use prod
    """
    app.store.use(name)
    app.out.status(f"now using profile {name}")


@config.command("add-profile")
@click.argument("name")
@click.option("--api-url", "url", required=True, help="API base URL of the profile.")
@click.option("--username", default=None, help="Login suggested by 'attune auth login'.")
@click.option(
    "--output-format", type=click.Choice(FORMATS), default=None, help="Default output format."
)
@click.option("--use", "make_current", is_flag=True, help="Also make it the current profile.")
@pass_app
def add_profile(
    app: App,
    name: str,
    url: str,
    username: str | None,
    output_format: str | None,
    make_current: bool,
) -> None:
    """Add (or replace) profile NAME.

    Example: attune config add-profile prod --api-url https://attune.example.com --use
    """
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://", param_hint="--api-url")
    app.store.save(Profile(name, api_url=url.rstrip("/"), username=username, output=output_format))
    if make_current:
        app.store.use(name)
    app.out.status(f"profile {name} saved ({url})" + (", now current" if make_current else ""))


@config.command("remove-profile")
@click.argument("name")
@pass_app
def remove_profile(app: App, name: str) -> None:
    """Remove profile NAME and its stored tokens.

    Example: attune config remove-profile staging
    """
    app.store.remove(name)
    app.out.status(f"profile {name} removed")


@config.command("show")
@pass_app
def show(app: App) -> None:
    """Show the settings in effect (profile, API URL, files, login).

    Example: attune config show
    """
    tokens = app.tokens()
    app.out.item(
        {
            "profile": app.profile_name,
            "api_url": app.api_url,
            "username": app.profile.username,
            "logged_in_as": tokens.login if tokens else None,
            "output": app.out.fmt,
            "config_file": str(app.store.config_path),
            "credentials_file": str(app.store.credentials_path),
        }
    )
