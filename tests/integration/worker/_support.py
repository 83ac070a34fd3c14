"""Helpers for the worker's integration tests: real subprocesses, no database.

``core_invocation`` builds the invocation the worker would build for a core pack action,
straight from the pack's YAML files (runner_type mapped to the runtime as pack-format.md says,
parameter defaults applied); ``shell_invocation`` and ``adhoc`` build test actions.
"""

from __future__ import annotations

import itertools
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import yaml

from attune_core.engine.worker import ActionInvocation
from attune_core.resources import packs_dir

CORE_PACK = packs_dir() / "core"

RUNNER_TYPES = {
    "shell": "core.shell",
    "bash": "core.shell",
    "sh": "core.shell",
    "python": "core.python",
    "python3": "core.python",
    "node": "core.nodejs",
    "nodejs": "core.nodejs",
    "node.js": "core.nodejs",
    "native": "core.native",
    "builtin": "core.native",
    "standalone": "core.native",
}

_ids = itertools.count(1000)


def core_runtime(ref: str) -> dict[str, Any]:
    """The YAML document of one core runtime."""
    for path in (CORE_PACK / "runtimes").glob("*.yaml"):
        document = yaml.safe_load(path.read_text())
        if document["ref"] == ref:
            return dict(document)
    raise LookupError(ref)


def core_action(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((CORE_PACK / "actions" / f"{name}.yaml").read_text()))


def core_invocation(
    name: str, parameters: dict[str, Any] | None = None, **overrides: Any
) -> ActionInvocation:
    """The invocation of core action ``name`` with ``parameters`` over the schema defaults."""
    spec = core_action(name)
    runtime_ref = RUNNER_TYPES[spec["runner_type"]]
    values = {
        key: schema["default"]
        for key, schema in (spec.get("parameters") or {}).items()
        if "default" in schema
    }
    values.update(parameters or {})
    fields: dict[str, Any] = {
        "execution_id": next(_ids),
        "action_ref": spec["ref"],
        "pack_ref": "core",
        "pack_dir": CORE_PACK,
        "entrypoint": spec["entry_point"],
        "runtime_ref": runtime_ref,
        "execution_config": core_runtime(runtime_ref)["execution_config"],
        "parameters": values,
        "parameter_delivery": spec.get("parameter_delivery", "stdin"),
        "parameter_format": spec.get("parameter_format", "json"),
        "output_format": spec.get("output_format", "text"),
        "timeout": spec.get("timeout", 30),
    }
    fields.update(overrides)
    return ActionInvocation(**fields)


def write_script(path: Path, text: str, *, executable: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    mode = 0o755 if executable else 0o644
    path.chmod(mode)
    return path


SHELL = {"interpreter": {"binary": "bash", "args": [], "file_extension": ".sh"}}


def shell_invocation(pack_dir: Path, entrypoint: str, **overrides: Any) -> ActionInvocation:
    fields: dict[str, Any] = {
        "execution_id": next(_ids),
        "action_ref": "testpack.action",
        "pack_ref": "testpack",
        "pack_dir": pack_dir,
        "entrypoint": entrypoint,
        "runtime_ref": "core.shell",
        "execution_config": SHELL,
        "timeout": 20,
    }
    fields.update(overrides)
    return ActionInvocation(**fields)


def adhoc(script: str, **overrides: Any) -> ActionInvocation:
    fields: dict[str, Any] = {
        "execution_id": next(_ids),
        "action_ref": "adhoc.action",
        "pack_ref": "adhoc",
        "pack_dir": None,
        "entrypoint": script,
        "is_adhoc": True,
        "runtime_ref": "core.shell",
        "execution_config": SHELL,
        "timeout": 20,
    }
    fields.update(overrides)
    return ActionInvocation(**fields)


def alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie waiting for its reaper counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def is_private_file(path: Path) -> bool:
    return stat.S_IMODE(os.stat(path).st_mode) == 0o400


async def eventually(predicate: Callable[[], bool], seconds: float = 3.0) -> bool:
    """Poll ``predicate`` (the state of other processes: there is no event to wait for)."""
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return True
        await anyio.sleep(0.02)
    return predicate()


async def wait_dead(pids: list[int]) -> bool:
    """True once none of ``pids`` runs any more (within a few seconds)."""
    return await eventually(lambda: not any(alive(pid) for pid in pids))
