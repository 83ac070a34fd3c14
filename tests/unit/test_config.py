"""Settings: sources and their order, type checks, error messages, production rules.

Every test passes ``environ=`` and ``base_dir=`` explicitly, so neither the developer's shell nor
the directory pytest runs from can change what a test sees.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml

from attune_core.config import (
    DEV_ENCRYPTION_KEY,
    DEV_JWT_SECRET,
    Environment,
    LogFormat,
    Settings,
    config_files,
    env_var_name,
    load_settings,
    normalize_database_url,
)
from attune_core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SECRET_A = "a" * 40
SECRET_B = "b" * 40
PRODUCTION_SECRETS = {
    "ATTUNE__SECURITY__JWT_SECRET": SECRET_A,
    "ATTUNE__SECURITY__ENCRYPTION_KEY": SECRET_B,
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def load(workdir: Path, home: Path, environ: dict[str, str] | None = None, **kw: Any) -> Settings:
    return load_settings(environ={"HOME": str(home), **(environ or {})}, base_dir=workdir, **kw)


def config_error(
    workdir: Path, home: Path, environ: dict[str, str] | None = None, **kw: Any
) -> str:
    with pytest.raises(ConfigError) as info:
        load(workdir, home, environ, **kw)
    return str(info.value)


# -- defaults ---------------------------------------------------------------------------------


def test_no_file_gives_the_embedded_setup_under_the_data_dir(workdir: Path, home: Path) -> None:
    settings = load(workdir, home)

    data = home / ".local" / "share" / "attune"
    assert settings.env is Environment.DEVELOPMENT
    assert settings.data_dir == data
    assert settings.database.url == f"sqlite+aiosqlite:///{data}/attune.db"
    assert settings.database.is_sqlite
    assert settings.packs_base_dir == data / "packs"
    assert settings.runtime_envs_dir == data / "runtime_envs"
    assert settings.message_queue.in_memory
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8080)
    assert settings.server.public_url == "http://127.0.0.1:8080"
    assert (settings.security.jwt_secret, settings.security.encryption_key) == (
        DEV_JWT_SECRET,
        DEV_ENCRYPTION_KEY,
    )
    assert settings.security.allow_self_registration is True
    assert (settings.security.access_token_ttl, settings.security.refresh_token_ttl) == (
        3600,
        604800,
    )
    assert settings.security.sensor_token_ttl == 86400
    assert settings.worker.default_timeout == 300
    assert settings.worker.max_stdout_bytes == settings.worker.max_stderr_bytes == 10 * 1024**2
    assert settings.log.format is LogFormat.CONSOLE
    assert settings.log.level == "INFO"


def test_defaults_match_loading_with_nothing_to_load(workdir: Path, home: Path) -> None:
    assert Settings.defaults(environ={"HOME": str(home)}) == load(workdir, home)


def test_defaults_ignore_files_and_variables(workdir: Path, home: Path) -> None:
    write(workdir / "config.yaml", "server:\n  port: 1\n")
    environ = {"HOME": str(home), "ATTUNE__SERVER__HOST": "0.0.0.0"}

    settings = Settings.defaults(environ=environ)

    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8080)


def test_an_absolute_xdg_data_home_holds_the_data_dir(workdir: Path, home: Path) -> None:
    xdg = workdir / "xdg"
    assert load(workdir, home, {"XDG_DATA_HOME": str(xdg)}).data_dir == xdg / "attune"
    # The XDG spec says a relative value is invalid and must be ignored.
    relative = load(workdir, home, {"XDG_DATA_HOME": "xdg"})
    assert relative.data_dir == home / ".local" / "share" / "attune"


def test_data_dir_moves_every_default_that_derives_from_it(workdir: Path, home: Path) -> None:
    settings = load(workdir, home, {"ATTUNE__DATA_DIR": "/srv/attune"})

    assert settings.database.url == "sqlite+aiosqlite:////srv/attune/attune.db"
    assert settings.packs_base_dir == Path("/srv/attune/packs")
    assert settings.runtime_envs_dir == Path("/srv/attune/runtime_envs")


def test_an_explicit_path_is_not_derived_from_data_dir(workdir: Path, home: Path) -> None:
    environ = {"ATTUNE__DATA_DIR": "/srv/attune", "ATTUNE__PACKS_BASE_DIR": "/opt/packs"}

    settings = load(workdir, home, environ)

    assert settings.packs_base_dir == Path("/opt/packs")
    assert settings.runtime_envs_dir == Path("/srv/attune/runtime_envs")


@pytest.mark.parametrize(
    ("env", "self_registration", "log_format"),
    [
        ("development", True, LogFormat.CONSOLE),
        ("test", False, LogFormat.CONSOLE),
        ("production", False, LogFormat.JSON),
    ],
)
def test_some_defaults_depend_on_the_environment(
    workdir: Path, home: Path, env: str, self_registration: bool, log_format: LogFormat
) -> None:
    settings = load(workdir, home, PRODUCTION_SECRETS, env=env)

    assert settings.env == Environment(env)
    assert settings.security.allow_self_registration is self_registration
    assert settings.log.format is log_format


def test_settings_are_frozen(workdir: Path, home: Path) -> None:
    settings = load(workdir, home)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        settings.server.port = 1  # type: ignore[misc]


def test_importing_the_module_reads_nothing(workdir: Path) -> None:
    # A broken config file and a broken variable: importing must not trip over either.
    write(workdir / "config.yaml", "server: [not, a, section\n")
    result = subprocess.run(
        [sys.executable, "-c", "import attune_core.config"],
        cwd=workdir,
        env={"ATTUNE__SERVER__PORT": "abc", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# -- files ------------------------------------------------------------------------------------


def test_config_yaml_in_the_base_dir_overrides_defaults_key_by_key(
    workdir: Path, home: Path
) -> None:
    write(
        workdir / "config.yaml",
        """
        server:
          port: 9000
        worker:
          runtimes: [shell, python]
        """,
    )

    settings = load(workdir, home)

    assert settings.server.port == 9000
    assert settings.server.host == "127.0.0.1"  # the rest of the section keeps its defaults
    assert settings.worker.runtimes == ("shell", "python")


def test_the_environment_file_overlays_config_yaml(workdir: Path, home: Path) -> None:
    write(workdir / "config.yaml", "server:\n  port: 9000\n  host: 0.0.0.0\n")
    write(workdir / "config.test.yaml", "server:\n  port: 9100\n")

    assert load(workdir, home, env="test").server.port == 9100
    assert load(workdir, home, env="test").server.host == "0.0.0.0"
    assert load(workdir, home, env="development").server.port == 9000


def test_attune_env_selects_the_environment_and_its_file(workdir: Path, home: Path) -> None:
    write(workdir / "config.test.yaml", "server:\n  port: 9100\n")

    settings = load(workdir, home, {"ATTUNE_ENV": "TEST"})

    assert settings.env is Environment.TEST
    assert settings.server.port == 9100


def test_an_unknown_environment_is_refused_naming_attune_env(workdir: Path, home: Path) -> None:
    message = config_error(workdir, home, {"ATTUNE_ENV": "prod"})
    assert "ATTUNE_ENV" in message
    assert "'prod'" in message
    assert "production" in message


def test_empty_files_and_empty_sections_set_nothing(workdir: Path, home: Path) -> None:
    write(workdir / "config.yaml", "# everything commented out\n")
    write(workdir / "config.development.yaml", "server:\n  # port: 1\nworker: {}\n")

    assert load(workdir, home) == Settings.defaults(environ={"HOME": str(home)})


def test_relative_paths_in_a_file_are_relative_to_that_file(workdir: Path, home: Path) -> None:
    etc = workdir / "etc"
    write(
        etc / "config.yaml",
        """
        packs_base_dir: ./packs
        runtime_envs_dir: ~/envs
        database:
          url: sqlite:///db/attune.db
        """,
    )

    settings = load(workdir, home, {"ATTUNE_CONFIG": str(etc)})

    assert settings.packs_base_dir == etc / "packs"
    assert settings.runtime_envs_dir == home / "envs"
    assert settings.database.url == f"sqlite+aiosqlite:///{etc}/db/attune.db"


# -- ATTUNE_CONFIG ----------------------------------------------------------------------------


def test_attune_config_names_a_file_and_its_sibling_overlay(workdir: Path, home: Path) -> None:
    write(workdir / "config.yaml", "server:\n  port: 1111\n")  # ignored: ATTUNE_CONFIG wins
    base = write(workdir / "etc" / "attune.yaml", "server:\n  port: 9000\n  host: 10.0.0.1\n")
    overlay = write(workdir / "etc" / "attune.production.yaml", "server:\n  port: 9443\n")
    environ = {"ATTUNE_CONFIG": str(base), **PRODUCTION_SECRETS}

    settings = load(workdir, home, environ, env="production")

    assert (settings.server.host, settings.server.port) == ("10.0.0.1", 9443)
    assert config_files(env="production", environ=environ, base_dir=workdir) == [base, overlay]


def test_attune_config_may_name_a_directory(workdir: Path, home: Path) -> None:
    write(workdir / "etc" / "config.yaml", "server:\n  port: 9000\n")
    write(workdir / "etc" / "config.test.yaml", "server:\n  notifier_port: 9001\n")

    settings = load(workdir, home, {"ATTUNE_CONFIG": "etc"}, env="test")

    assert (settings.server.port, settings.server.notifier_port) == (9000, 9001)


def test_config_path_argument_beats_attune_config(workdir: Path, home: Path) -> None:
    chosen = write(workdir / "a.yaml", "server:\n  port: 1000\n")
    write(workdir / "b.yaml", "server:\n  port: 2000\n")

    settings = load(workdir, home, {"ATTUNE_CONFIG": "b.yaml"}, config_path=chosen)

    assert settings.server.port == 1000


def test_attune_config_pointing_nowhere_is_an_error(workdir: Path, home: Path) -> None:
    message = config_error(workdir, home, {"ATTUNE_CONFIG": "missing.yaml"})
    assert "ATTUNE_CONFIG" in message
    assert str(workdir / "missing.yaml") in message


# -- environment variables --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "raw", "read", "expected"),
    [
        ("ATTUNE__SERVER__PORT", "9000", lambda s: s.server.port, 9000),
        ("ATTUNE__DATABASE__ECHO", "true", lambda s: s.database.echo, True),
        ("ATTUNE__DATABASE__POOL_TIMEOUT", "2.5", lambda s: s.database.pool_timeout, 2.5),
        ("ATTUNE__DATABASE__POOL_TIMEOUT", "3", lambda s: s.database.pool_timeout, 3.0),
        ("ATTUNE__LOG__LEVEL", "debug", lambda s: s.log.level, "DEBUG"),
        ("ATTUNE__LOG__FORMAT", "JSON", lambda s: s.log.format, LogFormat.JSON),
        ("ATTUNE__PACKS_BASE_DIR", "/opt/attune/packs", lambda s: s.packs_base_dir,
         Path("/opt/attune/packs")),
        ("ATTUNE__SERVER__CORS_ORIGINS", "http://a:3000, http://b",
         lambda s: s.server.cors_origins, ("http://a:3000", "http://b")),
        ("ATTUNE__WORKER__RUNTIMES", "[shell, python]", lambda s: s.worker.runtimes,
         ("shell", "python")),
        ("ATTUNE__WORKER__RUNTIMES", "", lambda s: s.worker.runtimes, ()),
        ("ATTUNE__MESSAGE_QUEUE__URL", "", lambda s: s.message_queue.in_memory, True),
        ("Attune__Server__Port", "9000", lambda s: s.server.port, 8080),  # prefix is exact
        ("ATTUNE__Server__Port", "9000", lambda s: s.server.port, 9000),  # keys are not
    ],
)  # fmt: skip
def test_variables_are_parsed_as_yaml_scalars(
    workdir: Path, home: Path, name: str, raw: str, read: Any, expected: object
) -> None:
    assert read(load(workdir, home, {name: raw})) == expected


def test_string_settings_are_taken_literally(workdir: Path, home: Path) -> None:
    # As YAML these would be an int, a float and a boolean.
    environ = {
        "ATTUNE__SECURITY__JWT_SECRET": "1" * 40,
        "ATTUNE__SECURITY__ENCRYPTION_KEY": "1e100000000000000000000000000000000",
        "ATTUNE__WORKER__NAME": "yes",
    }

    settings = load(workdir, home, environ)

    assert settings.security.jwt_secret == "1" * 40
    assert settings.security.encryption_key == "1e100000000000000000000000000000000"
    assert settings.worker.name == "yes"


def test_variables_beat_every_file(workdir: Path, home: Path) -> None:
    write(workdir / "config.yaml", "server:\n  port: 9000\n")
    write(workdir / "config.development.yaml", "server:\n  port: 9100\n")

    assert load(workdir, home, {"ATTUNE__SERVER__PORT": "9200"}).server.port == 9200


def test_a_key_variable_beats_a_section_variable(workdir: Path, home: Path) -> None:
    environ = {"ATTUNE__SERVER__PORT": "9200", "ATTUNE__SERVER": "{port: 1, host: 0.0.0.0}"}

    settings = load(workdir, home, environ)

    assert (settings.server.host, settings.server.port) == ("0.0.0.0", 9200)


def test_relative_paths_in_variables_are_relative_to_the_base_dir(
    workdir: Path, home: Path
) -> None:
    environ = {"ATTUNE__DATA_DIR": ".attune", "ATTUNE__DATABASE__URL": "sqlite:///state.db"}

    settings = load(workdir, home, environ)

    assert settings.data_dir == workdir / ".attune"
    assert settings.database.url == f"sqlite+aiosqlite:///{workdir}/state.db"


def test_a_malformed_variable_name_is_an_error(workdir: Path, home: Path) -> None:
    message = config_error(workdir, home, {"ATTUNE__SERVER____PORT": "1"})
    assert "ATTUNE__SERVER____PORT" in message


def test_env_var_name_spells_the_override() -> None:
    assert env_var_name("server.port") == "ATTUNE__SERVER__PORT"
    assert env_var_name("packs_base_dir") == "ATTUNE__PACKS_BASE_DIR"


# -- unknown keys and wrong types -------------------------------------------------------------


def test_an_unknown_key_in_a_file_names_key_file_line_and_suggestion(
    workdir: Path, home: Path
) -> None:
    config = write(workdir / "config.yaml", "server:\n  host: 0.0.0.0\n  prot: 9000\n")

    message = config_error(workdir, home)

    assert message.startswith(f"server.prot in {config}:3: is not a setting.")
    assert "Did you mean server.port?" in message


def test_an_unknown_section_is_reported_at_its_header(workdir: Path, home: Path) -> None:
    config = write(workdir / "config.yaml", "server:\n  port: 1\nservr:\n  port: 9000\n")

    message = config_error(workdir, home)

    assert f"servr in {config}:3: is not a setting" in message
    assert "Did you mean server?" in message


def test_an_unknown_variable_names_itself_and_suggests_the_right_one(
    workdir: Path, home: Path
) -> None:
    message = config_error(workdir, home, {"ATTUNE__SERVER__PROT": "9000"})

    assert "server.prot from environment variable ATTUNE__SERVER__PROT" in message
    assert "Did you mean ATTUNE__SERVER__PORT?" in message


def test_a_key_below_a_plain_value_is_an_error(workdir: Path, home: Path) -> None:
    message = config_error(workdir, home, {"ATTUNE__SERVER__PORT__NUMBER": "1"})
    assert "ATTUNE__SERVER__PORT__NUMBER" in message
    assert "expected a whole number" in message


@pytest.mark.parametrize(
    ("raw", "got"),
    [
        ("abc", "got 'abc' (a string)"),
        ("9000.5", "got 9000.5 (a number)"),
        ("yes", "got true (a boolean)"),
        ("", "got nothing (null)"),
    ],
)
def test_a_wrong_type_in_a_variable_names_key_type_and_source(
    workdir: Path, home: Path, raw: str, got: str
) -> None:
    message = config_error(workdir, home, {"ATTUNE__SERVER__PORT": raw})

    assert message.startswith(
        "server.port from environment variable ATTUNE__SERVER__PORT: expected a whole number, "
        + got
    )
    assert "unset the variable" in message


def test_a_wrong_type_in_a_file_names_key_type_and_line(workdir: Path, home: Path) -> None:
    config = write(
        workdir / "config.yaml",
        """
        database:
          echo: "yes"
        worker:
          runtimes: shell
        server: 8080
        """,
    )

    lines = config_error(workdir, home).splitlines()

    assert lines == [
        f"database.echo in {config}:2: expected true or false, got 'yes' (a string). "
        "Fix the value, or remove it to use the default.",
        f"server in {config}:5: expected a section of key: value pairs, got 8080 "
        "(a whole number). Fix the value, or remove it to use the default.",
        f"worker.runtimes in {config}:4: expected a list of strings, got 'shell' (a string). "
        "Fix the value, or remove it to use the default.",
    ]


def test_every_problem_is_listed_in_the_error_details(workdir: Path, home: Path) -> None:
    config = write(workdir / "config.yaml", "server:\n  port: -1\n")

    with pytest.raises(ConfigError) as info:
        load(workdir, home, {"ATTUNE__LOG__LEVEL": "loud"})

    assert info.value.details == [
        {
            "key": "server.port",
            "source": f"{config}:2",
            "message": "must be a TCP port between 0 and 65535, got -1",
        },
        {
            "key": "log.level",
            "source": "ATTUNE__LOG__LEVEL",
            "message": "must be one of CRITICAL, ERROR, WARNING, INFO, DEBUG, got 'LOUD'",
        },
    ]


def test_a_rule_between_two_settings_names_both(workdir: Path, home: Path) -> None:
    message = config_error(workdir, home, {"ATTUNE__WORKER__HEARTBEAT_INTERVAL": "60"})

    assert message.startswith(
        "worker.heartbeat_stale_after from the built-in defaults: must be greater than "
        "heartbeat_interval (60.0), got 30.0."
    )
    assert "ATTUNE__WORKER__HEARTBEAT_STALE_AFTER" in message


def test_the_environment_cannot_be_set_as_a_setting(workdir: Path, home: Path) -> None:
    config = write(workdir / "config.yaml", "env: production\n")

    message = config_error(workdir, home)

    assert f"env in {config}:1: the environment cannot be set" in message
    assert "ATTUNE_ENV" in message


def test_invalid_yaml_names_file_and_line(workdir: Path, home: Path) -> None:
    config = write(workdir / "config.yaml", "server:\n  port: 9000\n  host: [oops\n")

    message = config_error(workdir, home)

    assert message.startswith(f"{config}:")
    assert "invalid YAML" in message


def test_a_key_given_twice_is_an_error(workdir: Path, home: Path) -> None:
    config = write(workdir / "config.yaml", "server:\n  port: 1\n  port: 2\n")

    message = config_error(workdir, home)

    assert message.startswith(f"{config}:3: server.port is set twice (first at line 2)")


def test_a_file_that_is_not_a_mapping_is_an_error(workdir: Path, home: Path) -> None:
    config = write(workdir / "config.yaml", "- server\n")
    assert config_error(workdir, home).startswith(f"{config}: a config file must be a mapping")


# -- database and broker URLs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("postgres://u:p@db:5432/attune", "postgresql+asyncpg://u:p@db:5432/attune"),
        ("postgresql://u:p@db/a?ssl=require", "postgresql+asyncpg://u:p@db/a?ssl=require"),
        ("postgresql+asyncpg://db/attune", "postgresql+asyncpg://db/attune"),
        ("PostgreSQL://db/attune", "postgresql+asyncpg://db/attune"),
        ("sqlite:////var/lib/attune.db", "sqlite+aiosqlite:////var/lib/attune.db"),
        ("sqlite+aiosqlite:////var/lib/attune.db", "sqlite+aiosqlite:////var/lib/attune.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
    ],
)  # fmt: skip
def test_database_urls_are_normalised_to_the_async_drivers(
    workdir: Path, home: Path, url: str, normalized: str
) -> None:
    assert normalize_database_url(url) == normalized
    assert load(workdir, home, {"ATTUNE__DATABASE__URL": url}).database.url == normalized


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("localhost:5432/attune", "is not a database URL"),
        ("postgresql://u:s3cret@db:port/attune", "cannot be parsed"),
        ("mysql://u:s3cret@db/attune", "unsupported scheme 'mysql'"),
        ("postgresql+psycopg2://u:s3cret@db/attune", "through asyncpg only"),
        ("sqlite+pysqlite:///x.db", "through aiosqlite only"),
    ],
)
def test_a_malformed_database_url_names_the_setting_and_hides_the_url(
    workdir: Path, home: Path, url: str, reason: str
) -> None:
    config = write(workdir / "config.yaml", f"database:\n  url: '{url}'\n")

    message = config_error(workdir, home)

    assert message.startswith(f"database.url in {config}:2: ")
    assert reason in message
    assert "s3cret" not in message


@pytest.mark.parametrize("url", ["http://rabbit/", "amqp://", "amqp://rabbit:notaport/"])
def test_a_malformed_broker_url_is_an_error(workdir: Path, home: Path, url: str) -> None:
    message = config_error(workdir, home, {"ATTUNE__MESSAGE_QUEUE__URL": url})
    assert message.startswith(
        "message_queue.url from environment variable ATTUNE__MESSAGE_QUEUE__URL: "
    )


def test_a_distributed_setup_loads(workdir: Path, home: Path) -> None:
    write(
        workdir / "config.yaml",
        """
        database:
          url: postgresql://attune:pw@db.internal:5432/attune
          pool_size: 20
          schema: attune
        message_queue:
          url: amqp://attune:pw@mq.internal:5672/attune
        server:
          host: 0.0.0.0
          public_url: https://attune.example.com/
        """,
    )

    settings = load(workdir, home, PRODUCTION_SECRETS, env="production")

    assert settings.database.url == "postgresql+asyncpg://attune:pw@db.internal:5432/attune"
    assert not settings.database.is_sqlite
    assert settings.database.schema == "attune"
    assert not settings.message_queue.in_memory
    assert settings.server.public_url == "https://attune.example.com"


def test_a_wildcard_host_gives_a_loopback_public_url(workdir: Path, home: Path) -> None:
    environ = {"ATTUNE__SERVER__HOST": "0.0.0.0", "ATTUNE__SERVER__PORT": "9000"}
    assert load(workdir, home, environ).server.public_url == "http://127.0.0.1:9000"


# -- secrets ----------------------------------------------------------------------------------


def test_production_refuses_missing_secrets(workdir: Path, home: Path) -> None:
    lines = config_error(workdir, home, env="production").splitlines()

    assert [line.split(":")[0] for line in lines] == [
        "security.jwt_secret",
        "security.encryption_key",
    ]
    assert all("is not set, and production requires it" in line for line in lines)
    assert "ATTUNE__SECURITY__JWT_SECRET" in lines[0]


def test_production_refuses_the_development_secrets(workdir: Path, home: Path) -> None:
    config = write(
        workdir / "config.production.yaml",
        f"security:\n  jwt_secret: {DEV_JWT_SECRET}\n  encryption_key: {DEV_ENCRYPTION_KEY}\n",
    )

    lines = config_error(workdir, home, env="production").splitlines()

    assert lines[0].startswith(
        f"security.jwt_secret in {config}:2: is the public development default"
    )
    assert lines[1].startswith(
        f"security.encryption_key in {config}:3: is the public development default"
    )


def test_production_has_no_defaults_to_offer(home: Path) -> None:
    with pytest.raises(ConfigError, match="production requires it"):
        Settings.defaults("production", environ={"HOME": str(home)})


def test_production_loads_with_real_secrets(workdir: Path, home: Path) -> None:
    settings = load(workdir, home, PRODUCTION_SECRETS, env="production")
    assert (settings.security.jwt_secret, settings.security.encryption_key) == (
        SECRET_A,
        SECRET_B,
    )


@pytest.mark.parametrize("env", ["development", "test", "production"])
def test_a_short_encryption_key_is_refused_everywhere_without_showing_it(
    workdir: Path, home: Path, env: str
) -> None:
    environ = {**PRODUCTION_SECRETS, "ATTUNE__SECURITY__ENCRYPTION_KEY": "tooShortKey123"}

    message = config_error(workdir, home, environ, env=env)

    assert message.startswith(
        "security.encryption_key from environment variable ATTUNE__SECURITY__ENCRYPTION_KEY: "
        "must be at least 32 characters long, got 14."
    )
    assert "tooShortKey123" not in message


def test_a_secret_of_the_wrong_type_is_not_echoed(workdir: Path, home: Path) -> None:
    write(workdir / "config.yaml", "security:\n  jwt_secret: 123456789012345678901234567890123\n")

    message = config_error(workdir, home)

    assert "expected a string (quote it in YAML), got a value of the wrong type (int)" in message
    assert "123456789" not in message


# -- rendering --------------------------------------------------------------------------------


def test_redacted_hides_secrets_and_passwords_and_is_plain_data(workdir: Path, home: Path) -> None:
    environ = {
        **PRODUCTION_SECRETS,
        "ATTUNE__DATABASE__URL": "postgresql://attune:dbpass@db/attune",
        "ATTUNE__MESSAGE_QUEUE__URL": "amqp://attune:mqpass@mq:5672/",
        "ATTUNE__SERVER__CORS_ORIGINS": "http://localhost:5173",
    }

    shown = load(workdir, home, environ, env="production").redacted()

    dumped = yaml.safe_dump(shown)  # plain data: no Paths, enums or tuples
    for secret in (SECRET_A, SECRET_B, "dbpass", "mqpass"):
        assert secret not in dumped
    assert shown["env"] == "production"
    assert shown["security"]["jwt_secret"] == "<redacted>"
    assert shown["database"]["url"] == "postgresql+asyncpg://attune:***@db/attune"
    assert shown["message_queue"]["url"] == "amqp://attune:***@mq:5672/"
    assert shown["server"]["cors_origins"] == ["http://localhost:5173"]
    assert shown["log"]["format"] == "json"
    assert shown["data_dir"] == str(home / ".local" / "share" / "attune")


def test_repr_does_not_show_secrets(workdir: Path, home: Path) -> None:
    text = repr(load(workdir, home, PRODUCTION_SECRETS))
    assert SECRET_A not in text
    assert SECRET_B not in text


# -- documentation ----------------------------------------------------------------------------


def _leaf_keys(cls: type[Any], prefix: str = "") -> list[str]:
    keys = []
    for name, field_type in typing.get_type_hints(cls).items():
        key = f"{prefix}{name}"
        keys.extend(_leaf_keys(field_type, f"{key}.") if attrs.has(field_type) else [key])
    return keys


def test_the_documentation_lists_every_setting_with_its_variable() -> None:
    docs = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    keys = [key for key in _leaf_keys(Settings) if key != "env"]

    assert {"server.port", "database.url", "packs_base_dir"} <= set(keys)
    missing = [key for key in keys if f"`{env_var_name(key)}`" not in docs]
    assert missing == []
