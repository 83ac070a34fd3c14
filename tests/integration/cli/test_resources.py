"""Keys, triggers and webhooks, rules, events, enforcements, artifacts, identities, sensors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.integration.cli.conftest import DEV_LOGIN, Invoke, unique

pytestmark = pytest.mark.integration


def test_keys_are_set_read_masked_and_deleted(logged_in: Invoke) -> None:
    ref = f"cli.{unique('k')}"
    created = logged_in("key", "set", ref, "s3cr3t", "--encrypt")
    assert f"key {ref} created (encrypted)" in created.stderr
    masked = logged_in("key", "get", ref)
    assert masked.stdout == "********\n"
    assert "--decrypt" in masked.stderr
    assert logged_in("key", "get", ref, "--decrypt").stdout == "s3cr3t\n"
    logged_in("key", "set", ref, "n3w")
    assert logged_in("key", "get", ref, "--decrypt").stdout == "n3w\n"
    number = f"cli.{unique('n')}"
    logged_in("key", "set", number, '{"port": 8080}', "--json")
    value = json.loads(logged_in("key", "get", number, "-j").stdout)["value"]
    assert value == {"port": 8080}
    listed = json.loads(
        logged_in("key", "list", "--scope", "system", "--limit", "100", "-j").stdout
    )
    assert {ref, number} <= {k["ref"] for k in listed}
    assert all("value" not in k or k["value"] in (None, "") for k in listed if k["ref"] == ref)
    logged_in("key", "delete", ref)
    logged_in("key", "delete", number)
    gone = logged_in("key", "get", ref, ok=False)
    assert gone.exit_code == 4


def test_a_webhook_fires_a_rule_that_runs_an_action(logged_in: Invoke, installed_pack: str) -> None:
    trigger = f"clidemo.{unique('hook')}"
    rule = f"clidemo.{unique('rule')}"
    logged_in("trigger", "create", trigger, "--description", "CLI test hook")
    url = logged_in("trigger", "webhook", "enable", trigger).stdout.strip()
    assert "/api/v1/webhooks/wh_" in url
    logged_in(
        "rule", "create", rule, "--trigger", trigger, "--action", "clidemo.greet",
        "--param", "name={{ event.payload.who }}",
        "--conditions", '[{"field": "payload.who", "operator": "exists"}]',
    )  # fmt: skip
    shown = json.loads(logged_in("rule", "show", rule, "-j").stdout)
    assert (shown["trigger_ref"], shown["enabled"]) == (trigger, True)
    assert shown["action_params"] == {"name": "{{ event.payload.who }}"}
    response = httpx.post(url, json={"payload": {"who": "Webhook"}}, timeout=10)
    assert response.status_code == 200, response.text
    event_id = response.json()["data"]["event_id"]
    events = json.loads(logged_in("event", "list", "--trigger", trigger, "-j").stdout)
    assert [e["id"] for e in events] == [event_id]
    event = json.loads(logged_in("event", "show", str(event_id), "-j").stdout)
    assert event["payload"] == {"who": "Webhook"}
    enforcements = json.loads(logged_in("enforcement", "list", "--rule", rule, "-j").stdout)
    assert len(enforcements) == 1
    logged_in("enforcement", "show", str(enforcements[0]["id"]))
    execution = _wait_for_rule_execution(logged_in, rule)
    log = logged_in("execution", "logs", str(execution), "--follow")
    assert log.stdout == "hello Webhook\n"

    logged_in("rule", "update", rule, "--param", "times=2", "--description", "twice")
    updated = json.loads(logged_in("rule", "show", rule, "-j").stdout)
    assert updated["action_params"] == {"name": "{{ event.payload.who }}", "times": "2"}
    logged_in("rule", "disable", rule)
    assert rule not in logged_in("rule", "list", "--enabled", "--limit", "100").stdout
    logged_in("rule", "enable", rule)
    regenerated = logged_in("trigger", "webhook", "regenerate", trigger).stdout.strip()
    assert regenerated != url
    assert httpx.post(url, json={"payload": {}}, timeout=10).status_code == 404
    disabled = logged_in("trigger", "webhook", "disable", trigger, "-j")
    assert json.loads(disabled.stdout)["webhook_key"] is None
    logged_in("rule", "delete", rule)
    logged_in("trigger", "delete", trigger)
    assert logged_in("trigger", "show", trigger, ok=False).exit_code == 4


def _wait_for_rule_execution(attune: Invoke, rule: str) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        listed = json.loads(attune("execution", "list", "--rule", rule, "-j").stdout)
        if listed:
            return int(listed[0]["id"])
        time.sleep(0.1)
    raise AssertionError(f"rule {rule} requested no execution")


def test_a_rule_from_a_definition_file(
    logged_in: Invoke, installed_pack: str, tmp_path: Path
) -> None:
    rule = f"clidemo.{unique('file')}"
    definition = tmp_path / "rule.yaml"
    definition.write_text(
        yaml.safe_dump(
            {
                "ref": rule,
                "pack_ref": "clidemo",
                "label": "From a file",
                "trigger_ref": "core.webhook",
                "action_ref": "core.echo",
                "action_params": {"message": "hi"},
                "enabled": False,
            }
        )
    )
    created = json.loads(logged_in("rule", "create", "-f", str(definition), "-j").stdout)
    assert (created["ref"], created["enabled"]) == (rule, False)
    duplicate = logged_in("rule", "create", "-f", str(definition), "-j", ok=False)
    assert duplicate.exit_code == 1
    assert json.loads(duplicate.stderr)["code"] == "CONFLICT"
    logged_in("rule", "delete", rule)


def test_artifacts_are_uploaded_listed_and_downloaded(logged_in: Invoke, tmp_path: Path) -> None:
    ref = f"cli.{unique('report')}"
    source = tmp_path / "report.txt"
    source.write_text("line 1\nline 2\n")
    uploaded = logged_in("artifact", "upload", ref, str(source), "--type", "file_text")
    assert f"artifact {ref} created" in uploaded.stderr
    assert "version 1 of artifact" in uploaded.stderr
    listed = json.loads(logged_in("artifact", "list", "--limit", "100", "-j").stdout)
    assert ref in [a["ref"] for a in listed]
    shown = json.loads(logged_in("artifact", "show", ref, "-j").stdout)
    assert shown["type"] == "file_text"
    versions = logged_in("artifact", "show", ref, "--versions")
    assert "text/plain" in versions.stdout
    target = tmp_path / "copy.txt"
    logged_in("artifact", "download", ref, "-O", str(target))
    assert target.read_text() == "line 1\nline 2\n"
    to_stdout = logged_in("artifact", "download", str(shown["id"]), "-O", "-")
    assert to_stdout.stdout == "line 1\nline 2\n"


def test_identities_and_permissions(logged_in: Invoke) -> None:
    identities = json.loads(logged_in("identity", "list", "-j").stdout)
    me = next(i for i in identities if i["login"] == DEV_LOGIN[0])
    shown = json.loads(logged_in("identity", "show", DEV_LOGIN[0], "-j").stdout)
    assert shown["id"] == me["id"]
    permissions = json.loads(logged_in("identity", "permissions", str(me["id"]), "-j").stdout)
    assert "core.admin" in permissions["roles"]
    sets = json.loads(logged_in("permission", "list", "-j").stdout)
    assert {"core.admin", "core.editor", "core.executor", "core.viewer"} <= {s["ref"] for s in sets}
    viewer = json.loads(logged_in("permission", "show", "core.viewer", "-j").stdout)
    assert viewer["grants"]
    granted = json.loads(logged_in("permission", "grant", DEV_LOGIN[0], "core.viewer", "-j").stdout)
    assert (
        "core.viewer"
        in json.loads(logged_in("identity", "show", str(me["id"]), "-j").stdout)["roles"]
    )
    logged_in("permission", "revoke", str(granted["id"]))
    assert logged_in("identity", "show", "nobody@nowhere", ok=False).exit_code == 4


def test_sensor_and_trigger_lists(logged_in: Invoke) -> None:
    triggers = json.loads(logged_in("trigger", "list", "--pack", "core", "-j").stdout)
    assert "core.webhook" in {t["ref"] for t in triggers}
    logged_in("trigger", "show", "core.intervaltimer")
    assert logged_in("sensor", "list").exit_code == 0
    assert logged_in("sensor", "show", "core.nope", ok=False).exit_code == 4
