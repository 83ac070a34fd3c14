"""Packs: CRUD, registration from a server directory, install (git/archive/local), upload."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import anyio
import httpx
from quart import request

from attune_core.errors import BadRequest, Conflict, PackError, ValidationError
from attune_core.model import Pack, PackTestExecution
from attune_core.packs import load_pack, unregister_pack
from attune_core.security import Operation, Resource
from attune_services.api import _models as m
from attune_services.api._routing import Call, Message, list_repo, page_of, paging
from attune_services.api.routes._common import drop_none, register_directory, warnings_of
from attune_services.api.routes._registry import api

T = "packs"
P = Resource.PACK
R, C, U, D = Operation.READ, Operation.CREATE, Operation.UPDATE, Operation.DELETE
ARCHIVE_LIMIT = 200 * 1024 * 1024  # unpacked bytes accepted from one archive


@api.route(
    "GET",
    "/api/v1/packs",
    summary="List packs",
    tag=T,
    resource=P,
    op=R,
    response=m.PACK,
    kind="list",
)
async def list_packs(call: Call) -> object:
    return await list_repo(call, "packs")


@api.route(
    "POST",
    "/api/v1/packs",
    summary="Create a pack",
    tag=T,
    resource=P,
    op=C,
    body=m.PACK_CREATE,
    response=m.PACK,
    status=201,
)
async def create_pack(call: Call) -> object:
    values = drop_none(dict(call.body))
    async with call.ctx.store.transaction() as uow:
        return await uow.packs.create(Pack(**values))


@api.route(
    "GET", "/api/v1/packs/<ref>", summary="Get a pack", tag=T, resource=P, op=R, response=m.PACK
)
async def get_pack(call: Call, ref: str) -> object:
    async with call.ctx.store.read() as uow:
        return await uow.packs.get_by_ref(ref)


@api.route(
    "PUT",
    "/api/v1/packs/<ref>",
    summary="Update a pack",
    tag=T,
    resource=P,
    op=U,
    body=m.PACK_UPDATE,
    response=m.PACK,
)
async def update_pack(call: Call, ref: str) -> object:
    changes = drop_none(dict(call.body))
    changes.pop("ref", None)
    async with call.ctx.store.transaction() as uow:
        pack = await uow.packs.get_by_ref(ref)
        if not changes:
            return pack
        assert pack.id is not None
        return await uow.packs.update(pack.id, **changes)


@api.route(
    "DELETE",
    "/api/v1/packs/<ref>",
    summary="Delete a pack and its components",
    tag=T,
    resource=P,
    op=D,
    response=m.DELETED,
    kind="delete",
)
async def delete_pack(call: Call, ref: str) -> object:
    await unregister_pack(call.ctx.store, ref)
    return f"pack {ref!r} deleted"


def _installed(result: Any) -> dict[str, Any]:
    return {
        "pack": m.PACK.render(_pack_json(result.pack)),
        "test_result": None,
        "tests_skipped": True,
        "warnings": warnings_of(result),
    }


def _pack_json(pack: Pack) -> dict[str, Any]:
    from attune_core.model import to_json

    data: dict[str, Any] = to_json(pack)
    return data


@api.route(
    "POST",
    "/api/v1/packs/register",
    summary="Register a pack directory on the server",
    tag=T,
    resource=P,
    op=C,
    body=m.PACK_REGISTER,
    response=m.PACK_INSTALLED,
    status=201,
)
async def register(call: Call) -> object:
    result = await register_directory(
        call.ctx, call.body["path"], force=bool(call.body.get("force"))
    )
    return _installed(result)


@api.route(
    "POST",
    "/api/v1/packs/register-batch",
    summary="Register several pack directories",
    tag=T,
    resource=P,
    op=C,
    body=m.PACK_REGISTER_BATCH,
    response=m.PACK_BATCH_RESULT,
)
async def register_batch(call: Call) -> object:
    paths = list(call.body.get("paths") or [])
    if call.body.get("path"):
        base = Path(call.body["path"])
        found = await anyio.to_thread.run_sync(lambda: sorted(base.glob("*/pack.yaml")))
        paths += [str(p.parent) for p in found]
    packs, errors = [], []
    for path in paths:
        try:
            result = await register_directory(call.ctx, path, force=bool(call.body.get("force")))
            packs.append(_pack_json(result.pack))
        except (PackError, ValidationError, Conflict) as exc:
            errors.append({"path": path, "error": str(exc)})
        except Exception as exc:
            if getattr(exc, "code", None) == "NOT_FOUND":
                errors.append({"path": path, "error": str(exc)})
            else:
                raise
    return {"packs": packs, "errors": errors}


def _pack_root(directory: Path) -> Path:
    if (directory / "pack.yaml").is_file():
        return directory
    children = [p for p in directory.iterdir() if not p.name.startswith(".")]
    if len(children) == 1 and (children[0] / "pack.yaml").is_file():
        return children[0]
    raise BadRequest("the archive holds no pack.yaml at its root or in a single top directory")


def _extract(data: bytes, target: Path) -> Path:
    """Unpack a .tar.gz / .tgz / .zip safely (no absolute paths, no escapes, no links out)."""
    total = 0
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                total += info.file_size
                _safe_member(info.filename, target)
            if total > ARCHIVE_LIMIT:
                raise BadRequest("the archive is too large when unpacked")
            archive.extractall(target)
        return _pack_root(target)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for member in archive.getmembers():
                total += member.size
                _safe_member(member.name, target)
                if member.issym() or member.islnk():
                    _safe_member(str(Path(member.name).parent / member.linkname), target)
            if total > ARCHIVE_LIMIT:
                raise BadRequest("the archive is too large when unpacked")
            archive.extractall(target, filter="data")
    except tarfile.TarError as exc:
        raise BadRequest(f"not a valid .tar.gz or .zip archive: {exc}") from exc
    return _pack_root(target)


def _safe_member(name: str, target: Path) -> None:
    resolved = (target / name).resolve()
    if not resolved.is_relative_to(target.resolve()):
        raise BadRequest(f"archive member {name!r} points outside the archive")


async def _install_archive(call: Call, data: bytes, force: bool) -> Any:
    with tempfile.TemporaryDirectory(prefix="attune-pack-") as tmp:
        root = await anyio.to_thread.run_sync(_extract, data, Path(tmp))
        return await register_directory(call.ctx, root, force=force)


@api.route(
    "POST",
    "/api/v1/packs/upload",
    summary="Upload a pack (.tar.gz, multipart field 'pack')",
    tag=T,
    resource=P,
    op=C,
    response=m.PACK_INSTALLED,
    status=201,
    form={"pack": {"type": "string", "format": "binary"}, "force": m.STR, "skip_tests": m.STR},
)
async def upload(call: Call) -> object:
    files = await request.files
    form = await request.form
    upload = files.get("pack")
    if upload is None:
        raise BadRequest("multipart field 'pack' (a .tar.gz of the pack) is required")
    data = upload.read()
    force = str(form.get("force", "")).lower() in ("1", "true", "yes")
    return _installed(await _install_archive(call, data, force))


@api.route(
    "POST",
    "/api/v1/packs/install",
    summary="Install a pack from git, an archive URL or a path",
    tag=T,
    resource=P,
    op=C,
    body=m.PACK_INSTALL,
    response=m.PACK_INSTALLED,
    status=201,
)
async def install(call: Call) -> object:
    source = str(call.body["source"]).strip()
    force = bool(call.body.get("force"))
    ref_spec = call.body.get("ref_spec")
    if source.startswith(("http://", "https://")) and not source.endswith(".git") and not ref_spec:
        limit = call.ctx.settings.server.request_body_limit * 10
        async with httpx.AsyncClient(follow_redirects=True, timeout=60) as client:
            response = await client.get(source)
        if response.status_code != 200:
            raise BadRequest(f"downloading {source} answered HTTP {response.status_code}")
        if len(response.content) > limit:
            raise BadRequest("the archive is too large")
        return _installed(await _install_archive(call, response.content, force))
    if source.startswith(
        ("http://", "https://", "git@", "git://", "ssh://", "file://")
    ) or source.endswith(".git"):
        with tempfile.TemporaryDirectory(prefix="attune-git-") as tmp:
            command = ["git", "clone", "--depth", "1"]
            if ref_spec:
                command += ["--branch", str(ref_spec)]
            command += ["--", source, f"{tmp}/pack"]
            done = await anyio.run_process(command, check=False, stderr=subprocess.PIPE)
            if done.returncode != 0:
                last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
                raise BadRequest(f"git clone of {source} failed: {last[0]}")
            root = _pack_root(Path(tmp) / "pack")
            return _installed(await register_directory(call.ctx, root, force=force))
    path = anyio.Path(source.removeprefix("file://"))
    if await path.is_file():
        return _installed(await _install_archive(call, await path.read_bytes(), force))
    return _installed(await register_directory(call.ctx, str(path), force=force))


async def _workflow_files(call: Call, ref: str, *, sync: bool) -> dict[str, Any]:
    async with call.ctx.store.read() as uow:
        await uow.packs.get_by_ref(ref)
    directory = call.ctx.settings.packs_base_dir / ref
    files = sorted(directory.glob("actions/workflows/*.y*ml")) + sorted(
        directory.glob("workflows/*.y*ml")
    )
    errors: list[dict[str, Any]] = []
    if (directory / "pack.yaml").is_file():
        try:
            await anyio.to_thread.run_sync(load_pack, directory)
        except PackError as exc:
            errors = [{"file": exc.path, "line": exc.line, "error": exc.reason}]
            details = exc.details if isinstance(exc.details, list) else []
            errors = [
                {"file": d.get("path") if isinstance(d, dict) else None, "error": str(d)}
                for d in details
            ] or errors
        if sync and not errors:
            await register_directory(call.ctx, directory, force=True)
    total = len(files)
    valid = total - len({e.get("file") for e in errors if e.get("file")}) if errors else total
    return {
        "pack_ref": ref,
        "total": total,
        "synced": valid if sync and not errors else 0,
        "valid": max(0, valid),
        "errors": errors,
    }


@api.route(
    "POST",
    "/api/v1/packs/<ref>/workflows/sync",
    summary="Re-read a pack's workflow files",
    tag=T,
    resource=P,
    op=U,
    body=m.EMPTY,
    response=m.WORKFLOW_SYNC,
)
async def sync_workflows(call: Call, ref: str) -> object:
    return await _workflow_files(call, ref, sync=True)


@api.route(
    "POST",
    "/api/v1/packs/<ref>/workflows/validate",
    summary="Validate a pack's workflow files",
    tag=T,
    resource=P,
    op=R,
    body=m.EMPTY,
    response=m.WORKFLOW_SYNC,
)
async def validate_workflows(call: Call, ref: str) -> object:
    return await _workflow_files(call, ref, sync=False)


@api.route(
    "POST",
    "/api/v1/packs/<ref>/test",
    summary="Run a pack's tests",
    tag=T,
    resource=P,
    op=Operation.EXECUTE,
    body=m.EMPTY,
    response=m.PACK_TEST,
)
async def run_tests(call: Call, ref: str) -> object:
    directory = call.ctx.settings.packs_base_dir / ref
    async with call.ctx.store.read() as uow:
        pack = await uow.packs.get_by_ref(ref)
    tests = directory / "tests"
    started = anyio.current_time()
    total = passed = failed = 0
    output = ""
    if tests.is_dir() and any(tests.glob("test_*.py")):
        import sys

        done = await anyio.run_process(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
            check=False,
            cwd=str(directory),
        )
        output = (done.stdout or b"").decode(errors="replace")[-20000:]
        for word, count in _pytest_counts(output).items():
            if word == "passed":
                passed = count
            elif word in ("failed", "error", "errors"):
                failed += count
        total = passed + failed
    duration = int((anyio.current_time() - started) * 1000)
    assert pack.id is not None
    async with call.ctx.store.transaction() as uow:
        return await uow.pack_test_executions.create(
            PackTestExecution(
                pack_id=pack.id,
                pack_version=pack.version,
                total_tests=total,
                passed=passed,
                failed=failed,
                pass_rate=(passed / total) if total else 0.0,
                duration_ms=duration,
                result={"output": output, "status": "passed" if failed == 0 else "failed"},
            )
        )


def _pytest_counts(output: str) -> dict[str, int]:
    import re

    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|errors?)", output)}


@api.route(
    "GET",
    "/api/v1/packs/<ref>/tests",
    summary="A pack's test runs",
    tag=T,
    resource=P,
    op=R,
    response=m.PACK_TEST,
    kind="list",
)
async def list_tests(call: Call, ref: str) -> object:
    async with call.ctx.store.read() as uow:
        pack = await uow.packs.get_by_ref(ref)
    return await list_repo(call, "pack_test_executions", filters={"pack_id": pack.id})


@api.route(
    "GET",
    "/api/v1/packs/<ref>/tests/latest",
    summary="A pack's latest test run",
    tag=T,
    resource=P,
    op=R,
    response=m.PACK_TEST,
)
async def latest_test(call: Call, ref: str) -> object:
    from attune_core.errors import NotFound

    async with call.ctx.store.read() as uow:
        pack = await uow.packs.get_by_ref(ref)
        assert pack.id is not None
        latest = await uow.pack_test_executions.latest_for_pack(pack.id)
    if latest is None:
        raise NotFound(f"pack {ref!r} has no test runs")
    return latest


def _component_list(kind: str, repo: str, model: m.Model) -> None:
    async def handler(call: Call, ref: str) -> object:
        async with call.ctx.store.read() as uow:
            await uow.packs.get_by_ref(ref)
        from attune_services.api.routes import _serialize

        return await list_repo(
            call, repo, filters={"pack_ref": ref}, enrich=_serialize.ENRICHERS.get(repo)
        )

    handler.__name__ = f"pack_{kind}"
    api.route(
        "GET",
        f"/api/v1/packs/<ref>/{kind}",
        summary=f"A pack's {kind}",
        tag=T,
        resource=P,
        op=R,
        response=model,
        kind="list",
    )(handler)


for _kind, _repo, _model in (
    ("actions", "actions", m.ACTION),
    ("triggers", "triggers", m.TRIGGER),
    ("sensors", "sensors", m.SENSOR),
    ("rules", "rules", m.RULE),
    ("workflows", "workflow_definitions", m.WORKFLOW),
    ("runtimes", "runtimes", m.RUNTIME),
):
    _component_list(_kind, _repo, _model)

__all__ = ["Message", "page_of", "paging"]
