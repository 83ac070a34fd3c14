"""``attune artifact``: list, show, download and upload artifacts (execution output files).

Rule: ``download`` writes the bytes exactly as the API sends them (to a file, or to stdout
with ``-O -``); ``upload`` adds a new version to an artifact, creating the artifact first when
a ``--ref`` names one that does not exist yet.
"""

from __future__ import annotations

import mimetypes
import re
import sys
from pathlib import Path

import click

from attune_cli.app import ApiGroup, App, paging, pass_app
from attune_cli.client import ApiError

ARTIFACT_COLUMNS = [
    ("ID", "id"),
    ("REF", "ref"),
    ("TYPE", "type"),
    ("NAME", "name"),
    ("EXECUTION", "execution"),
    ("SIZE", "size_bytes"),
    ("UPDATED", "updated"),
]
TYPES = ["file_binary", "file_datatable", "file_image", "file_text", "other", "progress", "url"]


@click.group(cls=ApiGroup)
def artifact() -> None:
    """List, show, download and upload artifacts."""


@artifact.command("list")
@click.option("--execution", "execution_id", type=int, help="Only artifacts of this execution.")
@click.option("--type", "type_", type=click.Choice(TYPES), help="Only this type.")
@paging
@pass_app
def list_(app: App, execution_id: int | None, type_: str | None, page: int, limit: int) -> None:
    """List artifacts.

    Example: attune artifact list --execution 42
    """
    path = f"/api/v1/executions/{execution_id}/artifacts" if execution_id else "/api/v1/artifacts"
    result = app.client.page(path, {"type": type_, "page": page, "page_size": limit})
    app.out.items(result.items, ARTIFACT_COLUMNS, pagination=result.pagination)


def _resolve(app: App, artifact: str) -> int:
    """An artifact id from an id or a ref."""
    if artifact.isdigit():
        return int(artifact)
    return int(app.client.get(f"/api/v1/artifacts/ref/{artifact}")["id"])


@artifact.command()
@click.argument("artifact")
@click.option("--versions", is_flag=True, help="List the artifact's versions instead.")
@pass_app
def show(app: App, artifact: str, versions: bool) -> None:
    """Show an artifact (by id or ref).

    Example: attune artifact show 3  or  attune artifact show mypack.report --versions
    """
    artifact_id = _resolve(app, artifact)
    if versions:
        result = app.client.page(f"/api/v1/artifacts/{artifact_id}/versions")
        app.out.items(
            result.items,
            [
                ("VERSION", "version"),
                ("TYPE", "content_type"),
                ("SIZE", "size_bytes"),
                ("BY", "created_by"),
                ("CREATED", "created"),
            ],
            pagination=result.pagination,
        )
        return
    app.out.item(app.client.get(f"/api/v1/artifacts/{artifact_id}"))


@artifact.command()
@click.argument("artifact")
@click.option("--version", "version", type=int, help="A specific version (default: the newest).")
@click.option(
    "--output-file",
    "-O",
    "target",
    default=None,
    help="Where to write (default: the artifact's file name; '-' for stdout).",
)
@pass_app
def download(app: App, artifact: str, version: int | None, target: str | None) -> None:
    """Download an artifact's content (by id or ref).

    Example: attune artifact download 3 -O report.txt
    """
    artifact_id = _resolve(app, artifact)
    path = f"/api/v1/artifacts/{artifact_id}"
    path += f"/versions/{version}/download" if version else "/download"
    response = app.client.download(path)
    if target == "-":
        sys.stdout.buffer.write(response.content)
        sys.stdout.flush()
        return
    if target is None:
        match = re.search(r'filename="([^"]+)"', response.headers.get("content-disposition", ""))
        target = Path(match.group(1)).name if match else f"artifact-{artifact_id}"
    Path(target).write_bytes(response.content)
    app.out.done(
        f"{len(response.content)} bytes written to {target}",
        {"artifact": artifact_id, "file": target, "size": len(response.content)},
    )


@artifact.command()
@click.argument("artifact")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--type",
    "type_",
    type=click.Choice(TYPES),
    default="file_binary",
    help="Type of a new artifact.",
)
@click.option("--content-type", default=None, help="MIME type (default: guessed from FILE).")
@pass_app
def upload(app: App, artifact: str, file: Path, type_: str, content_type: str | None) -> None:
    """Upload FILE as a new version of ARTIFACT (an id, or a ref created when missing).

    Example: attune artifact upload mypack.report ./report.txt --type file_text
    """
    try:
        artifact_id = _resolve(app, artifact)
    except ApiError as exc:
        if exc.code != "NOT_FOUND" or artifact.isdigit():
            raise
        created = app.client.post(
            "/api/v1/artifacts", {"ref": artifact, "type": type_, "name": file.name}
        )
        artifact_id = int(created["id"])
        app.out.status(f"artifact {artifact} created (id {artifact_id})")
    mime = content_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    data = app.client.post(
        f"/api/v1/artifacts/{artifact_id}/versions/upload",
        files={"file": (file.name, file.read_bytes(), mime)},
        data={"content_type": mime},
    )
    app.out.done(f"version {data.get('version')} of artifact {artifact_id} uploaded", data)
