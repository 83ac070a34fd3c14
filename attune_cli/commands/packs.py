"""``attune pack``: list, show, install, register, upload, uninstall and test packs.

Rules of this file:

1. ``install`` takes what a user has: a local directory or archive is uploaded (so it works
   against a remote server too); anything else (git URL, archive URL, a path on the server)
   goes to ``/packs/install`` for the server to fetch.
2. ``register`` names a directory *on the server* (``/packs/register``); a relative path is
   made absolute here, which is right when the server runs on this machine.
3. ``test`` exits 1 when a pack test fails.
"""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path
from typing import Any

import click

from attune_cli.app import ApiGroup, App, complete_refs, paging, pass_app

PACK_COLUMNS = [
    ("REF", "ref"),
    ("VERSION", "version"),
    ("LABEL", "label"),
    ("DESCRIPTION", "description"),
]
_SKIP = {"__pycache__", ".git", ".venv", "venv", "node_modules", ".pytest_cache"}


@click.group(cls=ApiGroup)
def pack() -> None:
    """Manage packs."""


@pack.command("list")
@paging
@pass_app
def list_(app: App, page: int, limit: int) -> None:
    """List installed packs.

    Example: attune pack list
    """
    result = app.client.page("/api/v1/packs", {"page": page, "page_size": limit})
    app.out.items(result.items, PACK_COLUMNS, pagination=result.pagination)


@pack.command()
@click.argument("ref", shell_complete=complete_refs("/api/v1/packs"))
@pass_app
def show(app: App, ref: str) -> None:
    """Show a pack.

    Example: attune pack show core
    """
    app.out.item(app.client.get(f"/api/v1/packs/{ref}"))


def archive_directory(directory: Path) -> bytes:
    """A .tar.gz of ``directory`` (its contents at the archive root), without caches/VCS."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(directory.rglob("*")):
            relative = path.relative_to(directory)
            if _SKIP.intersection(relative.parts) or path.is_symlink():
                continue
            archive.add(path, arcname=str(relative), recursive=False)
    return buffer.getvalue()


def _upload(app: App, source: Path, force: bool, skip_tests: bool) -> Any:
    if source.is_dir():
        if not (source / "pack.yaml").is_file():
            raise click.BadParameter(f"{source} has no pack.yaml", param_hint="SOURCE")
        payload = archive_directory(source)
        name = f"{source.resolve().name}.tar.gz"
    else:
        payload = source.read_bytes()
        name = source.name
    app.out.status(f"uploading {source} ({len(payload)} bytes)...")
    return app.client.post(
        "/api/v1/packs/upload",
        files={"pack": (name, payload, "application/gzip")},
        data={"force": str(force).lower(), "skip_tests": str(skip_tests).lower()},
    )


def _report(app: App, verb: str, data: Any) -> None:
    installed = data.get("pack", data) if isinstance(data, dict) else {}
    message = f"pack {installed.get('ref')} {installed.get('version', '')} {verb}".rstrip()
    if app.out.structured:
        app.out.done(message, data)
    else:
        app.out.status(message)
        app.out.item(installed, fields=["ref", "label", "version", "description"])


FORCE = click.option("--force", is_flag=True, help="Replace an installed pack of the same ref.")
SKIP_TESTS = click.option("--skip-tests", is_flag=True, help="Do not run the pack's tests.")


@pack.command()
@click.argument("source")
@FORCE
@SKIP_TESTS
@click.option("--ref-spec", default=None, help="Git branch or tag to install.")
@pass_app
def install(app: App, source: str, force: bool, skip_tests: bool, ref_spec: str | None) -> None:
    """Install a pack from a git URL, an archive (URL or file) or a local directory.

    Example: attune pack install ./packs/hello  or  attune pack install https://github.com/org/pack.git
    """
    local = Path(source).expanduser()
    if local.exists() and not source.startswith(("http://", "https://", "git@", "file://")):
        data = _upload(app, local, force, skip_tests)
    else:
        app.out.status(f"installing {source}...")
        data = app.client.post(
            "/api/v1/packs/install",
            {"source": source, "ref_spec": ref_spec, "force": force, "skip_tests": skip_tests},
        )
    _report(app, "installed", data)


@pack.command()
@click.argument("path")
@FORCE
@SKIP_TESTS
@pass_app
def register(app: App, path: str, force: bool, skip_tests: bool) -> None:
    """Register a pack directory that is on the server's file system.

    Example: attune pack register /opt/attune/packs/hello --force
    """
    absolute = str(Path(path).expanduser().absolute())
    data = app.client.post(
        "/api/v1/packs/register", {"path": absolute, "force": force, "skip_tests": skip_tests}
    )
    _report(app, "registered", data)


@pack.command()
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@FORCE
@SKIP_TESTS
@pass_app
def upload(app: App, source: Path, force: bool, skip_tests: bool) -> None:
    """Upload a pack directory or .tar.gz archive from this machine.

    Example: attune pack upload ./packs/hello --force
    """
    _report(app, "installed", _upload(app, source, force, skip_tests))


@pack.command()
@click.argument("ref", shell_complete=complete_refs("/api/v1/packs"))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def uninstall(app: App, ref: str, yes: bool) -> None:
    """Remove a pack and everything it registered.

    Example: attune pack uninstall hello --yes
    """
    if not yes and sys.stdin.isatty():
        click.confirm(
            f"Uninstall pack {ref} and all its actions, rules, ...?", abort=True, err=True
        )
    data = app.client.delete(f"/api/v1/packs/{ref}")
    app.out.done(data.get("message") or f"pack {ref} uninstalled", data)


@pack.command()
@click.argument("ref", shell_complete=complete_refs("/api/v1/packs"))
@pass_app
def test(app: App, ref: str) -> None:
    """Run a pack's tests on the server; exit code 1 when one fails.

    Example: attune pack test hello
    """
    app.out.status(f"running the tests of pack {ref}...")
    data = app.client.post(f"/api/v1/packs/{ref}/test", {})
    if app.out.structured:
        app.out.item(data)
    else:
        output = (data.get("result") or {}).get("output") or ""
        if output:
            app.out.text(output)
        app.out.status(
            f"{data.get('passed', 0)} passed, {data.get('failed', 0)} failed "
            f"of {data.get('total_tests', 0)} ({data.get('duration_ms', 0)} ms)"
        )
    if data.get("failed"):
        sys.exit(1)
