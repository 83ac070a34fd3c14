"""Profiles in cli.yaml, tokens per profile in a 0600 credentials file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from attune_cli.profiles import DEFAULT_API_URL, Profile, ProfileStore, Tokens
from attune_core.errors import ConfigError


def test_default_profile_exists_without_a_file(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    assert store.current_name() == "default"
    assert store.get("default") == Profile("default", DEFAULT_API_URL)
    assert [p.name for p in store.profiles()] == ["default"]


def test_add_use_and_remove_profiles(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.save(Profile("prod", "https://attune.example.com", username="ops", output="json"))
    store.use("prod")
    assert store.current_name() == "prod"
    assert store.get("prod").output == "json"
    store.remove("prod")
    assert store.current_name() == "default"
    with pytest.raises(ConfigError, match="no profile 'prod'"):
        store.get("prod")


def test_tokens_are_private_and_only_given_to_the_server_that_issued_them(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "attune")
    store.save_tokens("default", Tokens("http://a:8080", "acc", "ref", "me"))
    mode = stat.S_IMODE(store.credentials_path.stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(store.credentials_path.parent.stat().st_mode) == 0o700
    assert store.tokens("default", "http://a:8080/") == Tokens("http://a:8080", "acc", "ref", "me")
    assert store.tokens("default", "http://b:8080") is None
    assert store.tokens("other", "http://a:8080") is None
    assert store.forget_tokens("default") is True
    assert store.tokens("default", "http://a:8080") is None


def test_a_broken_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "cli.yaml").write_text("profiles: [1, 2\n")
    with pytest.raises(ConfigError, match="cannot read"):
        ProfileStore(tmp_path).current_name()
