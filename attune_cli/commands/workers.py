"""``attune worker`` and ``attune runtime``: where actions run, and with what.

A worker is named by its id or by its name (``ATTUNE__WORKER__NAME``, unique), as
``attune worker list`` shows them.
"""

from __future__ import annotations

from typing import Any

import click

from attune_cli.app import ApiGroup, App, complete_refs, paging, pass_app
from attune_cli.client import ApiError

WORKER_COLUMNS = [
    ("ID", "id"),
    ("NAME", "name"),
    ("ROLE", "worker_role"),
    ("STATUS", "status"),
    ("CORDONED", "cordoned"),
    ("RUNTIMES", "runtimes"),
    ("HOST", "host"),
    ("LAST HEARTBEAT", "last_heartbeat"),
]
RUNTIME_COLUMNS = [
    ("REF", "ref"),
    ("NAME", "name"),
    ("PACK", "pack_ref"),
    ("VERSIONS", "versions"),
    ("DESCRIPTION", "description"),
]


def _worker_row(worker: dict[str, Any]) -> dict[str, Any]:
    """A worker as a table row: the runtimes of its capabilities (``*``: any runtime)."""
    runtimes = (worker.get("capabilities") or {}).get("runtimes") or []
    names = ["any" if name == "*" else str(name) for name in runtimes]
    return {**worker, "runtimes": ", ".join(names)}


def _runtime_row(runtime: dict[str, Any]) -> dict[str, Any]:
    versions = runtime.get("versions") or []
    return {**runtime, "versions": ", ".join(str(v.get("version")) for v in versions)}


def worker_id(app: App, worker: str) -> int:
    """The id of the worker named ``worker`` (an id, or a name); NOT_FOUND if none is."""
    if worker.isdigit():
        return int(worker)
    found = app.client.page("/api/v1/workers", {"name": worker}).items
    if not found:
        raise ApiError(f"worker {worker!r} not found", code="NOT_FOUND", status=404)
    return int(found[0]["id"])


_complete_workers = complete_refs("/api/v1/workers", "name")


@click.group(cls=ApiGroup)
def worker() -> None:
    """Inspect workers and cordon them (no new work) or uncordon them."""


@worker.command("list")
@click.option(
    "--status",
    type=click.Choice(["active", "inactive", "busy", "error"]),
    help="Only workers in this status.",
)
@click.option(
    "--role", type=click.Choice(["action", "sensor", "hybrid"]), help="Only workers of this role."
)
@paging
@pass_app
def worker_list(app: App, status: str | None, role: str | None, page: int, limit: int) -> None:
    """List workers: status, cordon, runtimes and last heartbeat.

    Example: attune worker list --status active
    """
    result = app.client.page(
        "/api/v1/workers", {"status": status, "role": role, "page": page, "page_size": limit}
    )
    rows = result.items if app.out.structured else [_worker_row(w) for w in result.items]
    app.out.items(rows, WORKER_COLUMNS, pagination=result.pagination)


@worker.command("show")
@click.argument("worker_name", metavar="WORKER", shell_complete=_complete_workers)
@pass_app
def worker_show(app: App, worker_name: str) -> None:
    """Show a worker (by id or name): its capabilities and verified runtime versions.

    Example: attune worker show worker-1
    """
    app.out.item(app.client.get(f"/api/v1/workers/{worker_id(app, worker_name)}"))


@worker.command("cordon")
@click.argument("worker_name", metavar="WORKER", shell_complete=_complete_workers)
@pass_app
def worker_cordon(app: App, worker_name: str) -> None:
    """Send no new executions to a worker (by id or name); what it runs goes on.

    Example: attune worker cordon worker-1
    """
    changed = app.client.post(f"/api/v1/workers/{worker_id(app, worker_name)}/cordon", {})
    app.out.done(f"worker {worker_name} cordoned: it gets no new executions", changed)


@worker.command("uncordon")
@click.argument("worker_name", metavar="WORKER", shell_complete=_complete_workers)
@pass_app
def worker_uncordon(app: App, worker_name: str) -> None:
    """Send executions to a cordoned worker (by id or name) again.

    Example: attune worker uncordon worker-1
    """
    changed = app.client.post(f"/api/v1/workers/{worker_id(app, worker_name)}/uncordon", {})
    app.out.done(f"worker {worker_name} uncordoned", changed)


@click.group(cls=ApiGroup)
def runtime() -> None:
    """Inspect runtimes (shell, Python, Node.js, native) and their versions."""


@runtime.command("list")
@click.option("--pack", "pack_ref", help="Only the runtimes of this pack.")
@paging
@pass_app
def runtime_list(app: App, pack_ref: str | None, page: int, limit: int) -> None:
    """List runtimes with their known versions.

    Example: attune runtime list
    """
    result = app.client.page(
        "/api/v1/runtimes", {"pack_ref": pack_ref, "page": page, "page_size": limit}
    )
    rows = result.items if app.out.structured else [_runtime_row(r) for r in result.items]
    app.out.items(rows, RUNTIME_COLUMNS, pagination=result.pagination)


@runtime.command("show")
@click.argument("ref", shell_complete=complete_refs("/api/v1/runtimes"))
@pass_app
def runtime_show(app: App, ref: str) -> None:
    """Show a runtime: its interpreter, verification commands and versions.

    Example: attune runtime show core.python
    """
    app.out.item(app.client.get(f"/api/v1/runtimes/{ref}"))
