#!/usr/bin/env python3
"""core.local: runs a shell command on the worker and reports its output.

Parameters (JSON on stdin or in $ATTUNE_PARAMETER_FILE): `cmd` (required, run with bash -c, or
sh when bash is missing), `cwd` (default: the system temporary directory), `env` (extra
environment variables for the command), `timeout` (seconds; the command's process tree is killed
and the exit code is 124).

Output: one JSON document {stdout, stderr, exit_code, succeeded, timed_out}. The action exits
with the command's exit code (128 + N when a signal N ended it), so a failing command fails the
execution; the command's stderr is also copied to the action's stderr, so its last line becomes
the execution's `error`. A SIGTERM sent to the action (timeout or cancel of the execution) is
passed on to the command's process group.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

KILL_GRACE_SECONDS = 1.0


def read_parameters() -> dict[str, Any]:
    if os.environ.get("ATTUNE_PARAMETER_DELIVERY") == "file":
        with open(os.environ["ATTUNE_PARAMETER_FILE"], encoding="utf-8") as handle:
            text = handle.read()
    else:
        text = sys.stdin.read()
    document = json.loads(text) if text.strip() else {}
    if not isinstance(document, dict):
        raise ValueError("the parameter document is not a JSON object")
    return document


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the command's process group, then SIGKILL what is left after a grace period."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + KILL_GRACE_SECONDS
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def fail(message: str) -> int:
    print(json.dumps({"succeeded": False, "error": message}))
    print(message, file=sys.stderr)
    return 2


def main() -> int:
    try:
        params = read_parameters()
    except ValueError as exc:
        return fail(f"invalid parameters: {exc}")
    cmd = params.get("cmd")
    if not isinstance(cmd, str) or not cmd.strip():
        return fail("cmd is required")
    cwd = params.get("cwd") or tempfile.gettempdir()
    if not os.path.isdir(cwd):
        return fail(f"cwd does not exist: {cwd}")
    extra_env = params.get("env") or {}
    if not isinstance(extra_env, dict):
        return fail("env must be an object")
    timeout = params.get("timeout")
    if timeout is not None:
        try:
            timeout = float(timeout)
        except (TypeError, ValueError):
            return fail("timeout must be a number of seconds")
    env = dict(os.environ)
    env.update({str(key): "" if value is None else str(value) for key, value in extra_env.items()})
    shell = shutil.which("bash") or "/bin/sh"
    # Its own process group, so a timeout can kill the command's whole tree without the action.
    process = subprocess.Popen(
        [shell, "-c", cmd],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )

    def forward(signum: int, frame: Any) -> None:
        stop_group(process)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    timed_out = False
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        stop_group(process)
        out, err = process.communicate()
    code = process.returncode
    if timed_out:
        code = 124
    elif code < 0:
        code = 128 - code
    stdout = out.decode("utf-8", errors="replace")
    stderr = err.decode("utf-8", errors="replace")
    if stderr:
        sys.stderr.write(stderr if stderr.endswith("\n") else stderr + "\n")
    if timed_out:
        print(f"command timed out after {timeout:g} seconds", file=sys.stderr)
    result = {
        "stdout": stdout,
        "stderr": stderr,
        "exit_code": code,
        "succeeded": code == 0,
        "timed_out": timed_out,
    }
    print(json.dumps(result))
    return code


if __name__ == "__main__":
    sys.exit(main())
