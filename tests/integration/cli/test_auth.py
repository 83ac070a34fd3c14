"""Logging in and out against a real server; tokens stored 0600 and refreshed transparently."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import yaml

from tests.integration.cli.conftest import DEV_LOGIN, Invoke

pytestmark = __import__("pytest").mark.integration


def test_login_prompts_for_what_is_missing_and_stores_private_tokens(
    attune: Invoke, config_dir: Path
) -> None:
    result = attune("auth", "login", "--username", DEV_LOGIN[0], input=f"{DEV_LOGIN[1]}\n")
    assert "Password" in result.stderr
    assert DEV_LOGIN[1] not in result.output  # the password is never echoed
    assert f"logged in as {DEV_LOGIN[0]}" in result.stderr
    credentials = config_dir / "credentials.yaml"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert yaml.safe_load(credentials.read_text())["default"]["login"] == DEV_LOGIN[0]
    me = json.loads(attune("auth", "whoami", "-j").stdout)
    assert me["login"] == DEV_LOGIN[0]
    assert "core.admin" in me["roles"]


def test_bad_credentials_exit_3_with_the_api_message(attune: Invoke) -> None:
    result = attune("auth", "login", "-u", DEV_LOGIN[0], "-p", "wrong-password", ok=False)
    assert result.exit_code == 3
    assert result.stderr == "error: invalid login or password\n"


def test_an_expired_access_token_is_refreshed_transparently(
    logged_in: Invoke, config_dir: Path
) -> None:
    credentials = config_dir / "credentials.yaml"
    stored = yaml.safe_load(credentials.read_text())
    stored["default"]["access_token"] = "expired.or.garbage"
    credentials.write_text(yaml.safe_dump(stored))
    result = logged_in("pack", "list", "-j")
    assert "core" in [p["ref"] for p in json.loads(result.stdout)]
    renewed = yaml.safe_load(credentials.read_text())["default"]
    assert renewed["access_token"] != "expired.or.garbage"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    refreshed = logged_in("auth", "refresh")
    assert "token refreshed; valid for" in refreshed.stderr
    assert yaml.safe_load(credentials.read_text())["default"]["login"] == DEV_LOGIN[0]


def test_after_logout_commands_ask_to_log_in(logged_in: Invoke) -> None:
    assert "logged out" in logged_in("auth", "logout").stderr
    result = logged_in("pack", "list", ok=False)
    assert result.exit_code == 3
    assert "run 'attune auth login'" in result.stderr
    as_yaml = logged_in("auth", "whoami", "-o", "yaml", ok=False)
    assert yaml.safe_load(as_yaml.stderr)["code"] == "UNAUTHORIZED"


def test_a_profile_keeps_its_own_tokens(logged_in: Invoke, api_url: str) -> None:
    logged_in("config", "add-profile", "other", "--api-url", api_url)
    result = logged_in("--profile", "other", "auth", "whoami", ok=False)
    assert result.exit_code == 3
    logged_in("--profile", "other", "auth", "login", "-u", DEV_LOGIN[0], "-p", DEV_LOGIN[1])
    listed = json.loads(logged_in("config", "profiles", "-j").stdout)
    assert {r["name"]: r["logged_in_as"] for r in listed} == {
        "default": DEV_LOGIN[0],
        "other": DEV_LOGIN[0],
    }


def test_login_prompts_for_both_and_verbose_shows_each_request(attune: Invoke) -> None:
    result = attune("auth", "login", input=f"{DEV_LOGIN[0]}\n{DEV_LOGIN[1]}\n")
    assert "Username" in result.stderr and "Password" in result.stderr
    verbose = attune("-v", "pack", "list", "-y")
    assert "GET /api/v1/packs -> 200" in verbose.stderr
    assert "core" in [p["ref"] for p in yaml.safe_load(verbose.stdout)]
