"""Profiles (``cli.yaml``) and the tokens of each profile (``credentials.yaml``).

Rules of this file:

1. Two files in one directory: ``$ATTUNE_CLI_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/attune``,
   else ``~/.config/attune``. ``cli.yaml`` holds what a user may share (profiles: API URL,
   default user, output format); ``credentials.yaml`` holds tokens, keyed by profile, and is
   always written with mode 0600 (its directory 0700) so no other user can read a token.
2. Writes are atomic (a temporary file renamed over the old one), so a crash mid-write never
   leaves a truncated file behind.
3. A token is only handed out for the API URL it was issued by: pointing a profile at another
   server (or passing ``--api-url``) never sends the old server's token there.
4. Bad files raise :class:`ConfigError` (exit code 2) naming the file, never a traceback.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import attrs
import yaml

from attune_core.errors import ConfigError

__all__ = ["DEFAULT_API_URL", "DEFAULT_PROFILE", "Profile", "ProfileStore", "Tokens", "config_dir"]

DEFAULT_API_URL = "http://127.0.0.1:8080"  # where `attune up` listens by default
DEFAULT_PROFILE = "default"


def config_dir() -> Path:
    """The directory of ``cli.yaml`` and ``credentials.yaml``."""
    explicit = os.environ.get("ATTUNE_CLI_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".config"
    return base / "attune"


@attrs.frozen
class Profile:
    """One named server a user talks to.

    Attributes:
        name: Profile name (``default``, ``prod``...).
        api_url: Base URL of the API (without ``/api/v1``).
        username: Login suggested by ``attune auth login``.
        output: Default output format (``table``, ``json`` or ``yaml``).
    """

    name: str
    api_url: str = DEFAULT_API_URL
    username: str | None = None
    output: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The profile as stored in ``cli.yaml`` (without its name)."""
        data: dict[str, Any] = {"api_url": self.api_url}
        if self.username:
            data["username"] = self.username
        if self.output:
            data["output"] = self.output
        return data


@attrs.frozen
class Tokens:
    """The tokens of a profile, and the API URL that issued them."""

    api_url: str
    access_token: str
    refresh_token: str | None = None
    login: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON/YAML-ready form."""
        return attrs.asdict(self)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping")
    return data


def _write_yaml(path: Path, data: dict[str, Any], *, private: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if private:
        path.parent.chmod(0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600 if private else 0o644)
        with os.fdopen(fd, "w") as handle:
            yaml.safe_dump(data, handle, sort_keys=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ProfileStore:
    """Reads and writes the profiles and credentials files.

    Args:
        directory: Where the files live (default :func:`config_dir`).
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or config_dir()
        self.config_path = self.directory / "cli.yaml"
        self.credentials_path = self.directory / "credentials.yaml"

    # -- profiles ---------------------------------------------------------------------------

    def _config(self) -> dict[str, Any]:
        data = _read_yaml(self.config_path)
        profiles = data.get("profiles") or {}
        if not isinstance(profiles, dict):
            raise ConfigError(f"{self.config_path}: 'profiles' must be a mapping")
        data["profiles"] = profiles
        return data

    def current_name(self) -> str:
        """The profile ``attune config use`` selected (``default`` when none was)."""
        return str(self._config().get("current_profile") or DEFAULT_PROFILE)

    def profiles(self) -> list[Profile]:
        """Every profile, the implicit ``default`` included."""
        data = self._config()
        names = list(data["profiles"])
        if DEFAULT_PROFILE not in names:
            names.insert(0, DEFAULT_PROFILE)
        return [self.get(name) for name in names]

    def get(self, name: str) -> Profile:
        """Profile ``name``; ``default`` always exists (with the default API URL).

        Raises:
            ConfigError: No such profile.
        """
        entry = self._config()["profiles"].get(name)
        if entry is None:
            if name == DEFAULT_PROFILE:
                return Profile(name)
            raise ConfigError(
                f"no profile {name!r} in {self.config_path} "
                "(see 'attune config profiles', 'attune config add-profile')"
            )
        if not isinstance(entry, dict):
            raise ConfigError(f"{self.config_path}: profile {name!r} must be a mapping")
        return Profile(
            name=name,
            api_url=str(entry.get("api_url") or DEFAULT_API_URL).rstrip("/"),
            username=entry.get("username"),
            output=entry.get("output"),
        )

    def save(self, profile: Profile) -> None:
        """Add or replace a profile."""
        data = self._config()
        data["profiles"][profile.name] = profile.to_dict()
        _write_yaml(self.config_path, data, private=False)

    def use(self, name: str) -> None:
        """Make ``name`` the current profile."""
        self.get(name)
        data = self._config()
        data["current_profile"] = name
        _write_yaml(self.config_path, data, private=False)

    def remove(self, name: str) -> None:
        """Delete a profile and its tokens (the current profile falls back to ``default``)."""
        data = self._config()
        if name not in data["profiles"]:
            raise ConfigError(f"no profile {name!r} in {self.config_path}")
        del data["profiles"][name]
        if data.get("current_profile") == name:
            data.pop("current_profile")
        _write_yaml(self.config_path, data, private=False)
        self.forget_tokens(name)

    # -- tokens -----------------------------------------------------------------------------

    def tokens(self, name: str, api_url: str) -> Tokens | None:
        """The tokens of profile ``name`` if they were issued by ``api_url``."""
        entry = _read_yaml(self.credentials_path).get(name)
        if not isinstance(entry, dict) or not entry.get("access_token"):
            return None
        if str(entry.get("api_url", "")).rstrip("/") != api_url.rstrip("/"):
            return None
        return Tokens(
            api_url=str(entry["api_url"]),
            access_token=str(entry["access_token"]),
            refresh_token=entry.get("refresh_token"),
            login=entry.get("login"),
        )

    def save_tokens(self, name: str, tokens: Tokens) -> None:
        """Store the tokens of profile ``name`` (file mode 0600)."""
        data = _read_yaml(self.credentials_path)
        data[name] = tokens.to_dict()
        _write_yaml(self.credentials_path, data, private=True)

    def forget_tokens(self, name: str) -> bool:
        """Delete the tokens of profile ``name``; whether there were any."""
        data = _read_yaml(self.credentials_path)
        if name not in data:
            return False
        del data[name]
        _write_yaml(self.credentials_path, data, private=True)
        return True
