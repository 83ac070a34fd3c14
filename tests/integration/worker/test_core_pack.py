"""The core pack: its YAML files follow pack-format.md, and every action works when run for real
through the ProcessRunner (http_request against a local HTTP server)."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml

from attune_core.engine.worker import ActionOutcome, ProcessRunner
from attune_core.model import ExecutionStatus, ParameterDelivery
from attune_core.packs import load_pack
from tests.integration.worker._support import (
    CORE_PACK,
    RUNNER_TYPES,
    core_action,
    core_invocation,
    wait_dead,
)

pytestmark = pytest.mark.anyio

ACTIONS = ["ask", "echo", "noop", "sleep", "http_request", "local"]
TRIGGERS = ["intervaltimer", "crontimer", "datetimetimer", "webhook"]
TYPES = {"string", "integer", "number", "boolean", "array", "object", "any"}


# -- the files -------------------------------------------------------------------------------


def test_pack_yaml_is_kept() -> None:
    pack = yaml.safe_load((CORE_PACK / "pack.yaml").read_text())
    assert pack["ref"] == "core"
    assert pack["version"] == "1.0.0"


def test_the_pack_loader_reads_the_core_pack_without_warnings() -> None:
    spec = load_pack(CORE_PACK)
    assert spec.warnings == ()
    assert sorted(a.ref for a in spec.actions) == sorted(f"core.{name}" for name in ACTIONS)
    assert sorted(t.ref for t in spec.triggers) == sorted(f"core.{name}" for name in TRIGGERS)
    runners = {a.ref: a.runner.value for a in spec.actions}
    assert runners["core.echo"] == "core.shell"
    assert runners["core.http_request"] == "core.python"


def test_runtimes() -> None:
    runtimes = {
        doc["ref"]: doc
        for doc in (yaml.safe_load(p.read_text()) for p in (CORE_PACK / "runtimes").glob("*.yaml"))
    }
    assert set(runtimes) == {"core.native", "core.shell", "core.python", "core.nodejs"}
    assert runtimes["core.native"]["execution_config"] == {}
    assert [v["version"] for v in runtimes["core.python"]["versions"]] == ["3.11", "3.12", "3.13"]
    assert [v["version"] for v in runtimes["core.nodejs"]["versions"]] == ["18", "20", "22"]
    for ref in ("core.python", "core.nodejs"):
        versions = runtimes[ref]["versions"]
        assert sum(v["is_default"] for v in versions) == 1
        for entry in versions:
            assert entry["execution_config"]["interpreter"]["binary"]
            assert entry["distributions"]["verification"]["commands"]


@pytest.mark.parametrize("name", ACTIONS)
def test_action_files(name: str) -> None:
    spec = core_action(name)
    assert spec["ref"] == f"core.{name}"
    assert spec["name"] == name
    assert spec["runner_type"] in RUNNER_TYPES
    script = CORE_PACK / "actions" / spec["entry_point"]
    assert script.is_file()
    assert os.access(script, os.X_OK)
    assert spec["parameter_delivery"] in ("stdin", "file")
    assert spec["parameter_format"] in ("json", "dotenv", "yaml")
    assert spec["output_format"] in ("text", "json", "yaml", "jsonl")
    for parameter, schema in spec["parameters"].items():
        assert schema["type"] in TYPES, parameter


@pytest.mark.parametrize("name", TRIGGERS)
def test_trigger_files(name: str) -> None:
    spec = yaml.safe_load((CORE_PACK / "triggers" / f"{name}.yaml").read_text())
    assert spec["ref"] == f"core.{name}"
    assert isinstance(spec["parameters"], dict)
    assert isinstance(spec["output"], dict)
    for schema in spec["parameters"].values():
        assert schema["type"] in TYPES


def test_timer_parameters() -> None:
    def params(name: str) -> dict[str, Any]:
        return dict(
            yaml.safe_load((CORE_PACK / "triggers" / f"{name}.yaml").read_text())["parameters"]
        )

    interval = params("intervaltimer")
    assert interval["unit"]["enum"] == ["seconds", "minutes", "hours", "days"]
    assert interval["interval"]["required"] is True
    assert params("crontimer")["expression"]["required"] is True
    assert params("crontimer")["timezone"]["default"] == "UTC"
    assert params("datetimetimer")["fire_at"]["required"] is True


# -- echo, noop, sleep -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    ["hello", "", 'it\'s "quoted" $HOME `x`', "two\nlines", "trailing '", "ünïcødé ✓", "a=b=c"],
)
async def test_echo_prints_the_message(runner: ProcessRunner, message: str) -> None:
    outcome = await runner.run(core_invocation("echo", {"message": message}))
    assert outcome.status is ExecutionStatus.COMPLETED, outcome.result
    assert outcome.result["stdout"] == message + "\n"


async def test_echo_reads_a_parameter_file_too(runner: ProcessRunner) -> None:
    outcome = await runner.run(
        core_invocation(
            "echo", {"message": "from a file"}, parameter_delivery=ParameterDelivery.FILE
        )
    )
    assert outcome.stdout == "from a file\n"


async def test_echo_ignores_other_keys(runner: ProcessRunner) -> None:
    outcome = await runner.run(
        core_invocation("echo", {"message": "m", "extra": {"nested": "x"}}, secrets={"tok": "s"})
    )
    assert outcome.stdout == "m\n"


async def test_noop(runner: ProcessRunner) -> None:
    quiet = await runner.run(core_invocation("noop"))
    assert (quiet.status, quiet.stdout) == (ExecutionStatus.COMPLETED, "")
    loud = await runner.run(core_invocation("noop", {"message": "nothing to do"}))
    assert loud.stdout == "nothing to do\n"


async def test_noop_exit_code_fails_the_execution(runner: ProcessRunner) -> None:
    outcome = await runner.run(core_invocation("noop", {"exit_code": 3, "message": "m"}))
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.result == {
        "succeeded": False,
        "exit_code": 3,
        "duration_ms": outcome.duration_ms,
        "error": "Command exited with code 3",
        "stdout": "m\n",
    }


async def test_noop_rejects_a_bad_exit_code(runner: ProcessRunner) -> None:
    outcome = await runner.run(core_invocation("noop", {"exit_code": "many"}))
    assert outcome.exit_code == 2
    assert outcome.error == "exit_code must be an integer between 0 and 255, got 'many'"


async def test_sleep(runner: ProcessRunner) -> None:
    started = time.monotonic()
    outcome = await runner.run(core_invocation("sleep", {"seconds": 0.3}))
    assert outcome.status is ExecutionStatus.COMPLETED
    assert 0.3 <= time.monotonic() - started < 2


async def test_sleep_is_stopped_by_its_timeout(runner: ProcessRunner) -> None:
    started = time.monotonic()
    outcome = await runner.run(core_invocation("sleep", {"seconds": 30}, timeout=0.3))
    assert outcome.timed_out
    assert outcome.error == "Execution timed out after 0.3 seconds"
    assert time.monotonic() - started < 2


async def test_sleep_rejects_a_bad_duration(runner: ProcessRunner) -> None:
    outcome = await runner.run(core_invocation("sleep", {"seconds": "-1"}))
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.error == "seconds must be a non-negative number, got '-1'"


# -- local -----------------------------------------------------------------------------------


async def test_local_reports_stdout_stderr_and_exit_code(runner: ProcessRunner) -> None:
    outcome = await runner.run(core_invocation("local", {"cmd": "echo out; echo err >&2"}))
    assert outcome.status is ExecutionStatus.COMPLETED, outcome.result
    assert outcome.result["data"] == {
        "stdout": "out\n",
        "stderr": "err\n",
        "exit_code": 0,
        "succeeded": True,
        "timed_out": False,
    }


async def test_local_failure_fails_the_execution(runner: ProcessRunner) -> None:
    outcome = await runner.run(core_invocation("local", {"cmd": "echo 'disk full' >&2; exit 5"}))
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.exit_code == 5
    assert outcome.error == "disk full"
    assert json.loads(outcome.result["stdout"])["exit_code"] == 5


async def test_local_cwd_and_env(runner: ProcessRunner, tmp_path: Path) -> None:
    outcome = await runner.run(
        core_invocation(
            "local",
            {"cmd": 'pwd; echo "$GREETING"', "cwd": str(tmp_path), "env": {"GREETING": "hi"}},
        )
    )
    assert outcome.result["data"]["stdout"] == f"{tmp_path}\nhi\n"


async def test_local_default_cwd_is_not_the_pack(runner: ProcessRunner) -> None:
    outcome = await runner.run(core_invocation("local", {"cmd": "pwd"}))
    assert outcome.result["data"]["stdout"].strip() != str(CORE_PACK)


async def test_local_timeout_kills_the_command_tree(runner: ProcessRunner, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    outcome = await runner.run(
        core_invocation("local", {"cmd": f"sleep 30 & echo $! > {pid_file}; wait", "timeout": 1})
    )
    assert time.monotonic() - started < 4
    assert outcome.exit_code == 124
    assert outcome.error == "command timed out after 1 seconds"
    assert json.loads(outcome.result["stdout"])["timed_out"] is True
    assert await wait_dead([int(await anyio.Path(pid_file).read_text())])


async def test_local_passes_the_worker_sigterm_to_the_command(
    runner: ProcessRunner, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    outcome = await runner.run(
        core_invocation("local", {"cmd": f"sleep 30 & echo $! > {pid_file}; wait"}, timeout=1)
    )
    assert outcome.timed_out
    assert await wait_dead([int(await anyio.Path(pid_file).read_text())])


async def test_local_requires_cmd(runner: ProcessRunner) -> None:
    outcome = await runner.run(core_invocation("local", {}))
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.error == "cmd is required"


# -- http_request ----------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Routes: /echo (the request as JSON), /status/N, /redirect/N (N hops to /echo),
    /basic (needs user:pw), /bearer (needs token t0k), /text."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(
        self, status: int, body: bytes, content_type: str = "application/json", **headers: str
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if parts[0] == "echo":
            document = {
                "method": self.command,
                "query": urllib.parse.parse_qs(url.query),
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
            }
            self._send(200, json.dumps(document).encode(), X_Custom="yes")
        elif parts[0] == "status":
            self._send(int(parts[1]), json.dumps({"status": int(parts[1])}).encode())
        elif parts[0] == "redirect":
            hops = int(parts[1])
            target = "/echo" if hops <= 1 else f"/redirect/{hops - 1}"
            self._send(302, b"", "text/plain", Location=target)
        elif parts[0] == "basic":
            expected = "Basic " + base64.b64encode(b"user:pw").decode()
            ok = self.headers.get("Authorization") == expected
            self._send(200 if ok else 401, b'{"auth": "basic"}')
        elif parts[0] == "bearer":
            ok = self.headers.get("Authorization") == "Bearer t0k"
            self._send(200 if ok else 401, b'{"auth": "bearer"}')
        else:
            self._send(200, "plain text ✓".encode(), "text/plain; charset=utf-8")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def request(runner: ProcessRunner, **parameters: Any) -> ActionOutcome:
    return await runner.run(core_invocation("http_request", parameters))


async def test_http_get_json(runner: ProcessRunner, http_server: str) -> None:
    outcome = await request(
        runner,
        url=f"{http_server}/echo?x=1",
        query_params={"y": "2", "z": [3, 4]},
        headers={"X-Test": "abc"},
    )
    assert outcome.status is ExecutionStatus.COMPLETED, outcome.result
    data = outcome.result["data"]
    assert set(data) == {"status_code", "headers", "body", "json", "elapsed_ms", "url", "success"}
    assert data["status_code"] == 200
    assert data["success"] is True
    assert data["headers"]["X-Custom"] == "yes"
    assert data["json"]["method"] == "GET"
    assert data["json"]["query"] == {"x": ["1"], "y": ["2"], "z": ["3", "4"]}
    assert data["json"]["headers"]["x-test"] == "abc"
    assert data["json"]["headers"]["user-agent"].startswith("attune-core-http-request/")
    assert json.loads(data["body"]) == data["json"]
    assert isinstance(data["elapsed_ms"], int)


async def test_http_post_json_body(runner: ProcessRunner, http_server: str) -> None:
    outcome = await request(runner, url=f"{http_server}/echo", method="POST", json_body={"k": [1]})
    echoed = outcome.result["data"]["json"]
    assert echoed["method"] == "POST"
    assert json.loads(echoed["body"]) == {"k": [1]}
    assert echoed["headers"]["content-type"] == "application/json"


async def test_http_put_raw_body(runner: ProcessRunner, http_server: str) -> None:
    outcome = await request(
        runner,
        url=f"{http_server}/echo",
        method="PUT",
        body="a=b",
        headers={"Content-Type": "text/plain"},
    )
    echoed = outcome.result["data"]["json"]
    assert (echoed["method"], echoed["body"], echoed["headers"]["content-type"]) == (
        "PUT",
        "a=b",
        "text/plain",
    )


async def test_http_error_status_is_an_answer(runner: ProcessRunner, http_server: str) -> None:
    outcome = await request(runner, url=f"{http_server}/status/404")
    assert outcome.status is ExecutionStatus.COMPLETED
    data = outcome.result["data"]
    assert (data["status_code"], data["success"], data["json"]) == (404, False, {"status": 404})


async def test_http_text_body(runner: ProcessRunner, http_server: str) -> None:
    data = (await request(runner, url=f"{http_server}/text")).result["data"]
    assert (data["body"], data["json"]) == ("plain text ✓", None)


async def test_http_head(runner: ProcessRunner, http_server: str) -> None:
    data = (await request(runner, url=f"{http_server}/echo", method="HEAD")).result["data"]
    assert (data["status_code"], data["body"]) == (200, "")


async def test_http_auth(runner: ProcessRunner, http_server: str) -> None:
    basic = await request(
        runner,
        url=f"{http_server}/basic",
        auth_type="basic",
        auth_username="user",
        auth_password="pw",
    )
    assert basic.result["data"]["status_code"] == 200
    wrong = await request(
        runner,
        url=f"{http_server}/basic",
        auth_type="basic",
        auth_username="user",
        auth_password="x",
    )
    assert wrong.result["data"]["status_code"] == 401
    bearer = await request(
        runner, url=f"{http_server}/bearer", auth_type="bearer", auth_token="t0k"
    )
    assert bearer.result["data"]["status_code"] == 200


async def test_http_redirects(runner: ProcessRunner, http_server: str) -> None:
    followed = await request(runner, url=f"{http_server}/redirect/3")
    assert followed.result["data"]["status_code"] == 200
    assert followed.result["data"]["url"] == f"{http_server}/echo"
    not_followed = await request(runner, url=f"{http_server}/redirect/1", follow_redirects=False)
    assert not_followed.result["data"]["status_code"] == 302
    assert not_followed.result["data"]["headers"]["Location"] == "/echo"
    too_many = await request(runner, url=f"{http_server}/redirect/5", max_redirects=2)
    assert too_many.status is ExecutionStatus.FAILED
    assert too_many.error is not None
    assert too_many.error.endswith("too many redirects (more than 2)")


async def test_http_connection_refused_fails(runner: ProcessRunner) -> None:
    outcome = await request(runner, url="http://127.0.0.1:9/nothing", timeout=2)
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.exit_code == 1
    assert outcome.error is not None
    assert outcome.error.startswith("request to http://127.0.0.1:9/nothing failed:")
    printed = json.loads(outcome.result["stdout"])
    assert (printed["status_code"], printed["success"]) == (None, False)
    assert printed["error"] == outcome.error


async def test_http_invalid_parameters(runner: ProcessRunner) -> None:
    outcome = await request(runner, url="http://127.0.0.1/", method="BREW")
    assert outcome.exit_code == 2
    assert outcome.error is not None
    assert outcome.error.startswith("invalid parameters: method must be one of GET")


async def test_http_secrets_are_not_in_the_output(runner: ProcessRunner, http_server: str) -> None:
    outcome = await request(
        runner, url=f"{http_server}/bearer", auth_type="bearer", auth_token="t0k"
    )
    assert "t0k" not in outcome.stdout + outcome.stderr
