"""Typed settings: built-in defaults, YAML files and ``ATTUNE__SECTION__KEY`` variables.

Rules of this file:

1. Importing it does nothing. No file, environment variable or directory is read until
   :func:`load_settings` or :meth:`Settings.defaults` is called, and loading never creates
   directories.
2. Sources apply in one order, a later one winning key by key (a file that sets
   ``server.port`` keeps every other ``server`` default): built-in defaults < ``config.yaml`` <
   ``config.{env}.yaml`` < ``ATTUNE__SECTION__KEY`` environment variables.
3. Every value remembers where it came from (file and line, or variable name), so each
   :class:`~attune_core.errors.ConfigError` line names the key, its source and how to fix it.
   All problems are reported together, one line each, before anything starts.
4. Types are checked by cattrs with strict hooks: nothing is coerced silently (``"yes"`` is not
   a port, ``9000.5`` is not an integer). Value rules (ranges, URL formats, secret lengths) are
   attrs validators on the classes, so settings built in Python obey them too.
5. Defaults that depend on the environment or on ``data_dir`` are computed by the loader in one
   place (:func:`_default_layer`, :func:`_derive_from_data_dir`), never in the classes; the
   classes leave those fields required.
6. Settings are frozen. Paths in them are absolute and database URLs normalised to the async
   drivers, so consumers never resolve anything again.
"""

from __future__ import annotations

import difflib
import enum
import functools
import logging
import os
import re
import typing
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import attrs
import cattrs
import yaml
from cattrs.errors import AttributeValidationNote, ClassValidationError, ForbiddenExtraKeysError
from cattrs.gen import make_dict_structure_fn

from attune_core.errors import ConfigError

__all__ = [
    "CONFIG_ENV_VAR",
    "DEV_ENCRYPTION_KEY",
    "DEV_JWT_SECRET",
    "ENVIRONMENT_ENV_VAR",
    "ENV_PREFIX",
    "MIN_SECRET_LENGTH",
    "DatabaseSettings",
    "Environment",
    "LogFormat",
    "LogSettings",
    "MessageQueueSettings",
    "RetentionSettings",
    "SecuritySettings",
    "SensorSettings",
    "ServerSettings",
    "Settings",
    "WorkerSettings",
    "config_files",
    "env_var_name",
    "load_settings",
    "normalize_database_url",
]

logger = logging.getLogger(__name__)

ENV_PREFIX: Final = "ATTUNE__"
"""Prefix of override variables; ``__`` also separates section and key."""

CONFIG_ENV_VAR: Final = "ATTUNE_CONFIG"
"""Names a config file (or a directory holding ``config.yaml``) to use instead of the cwd."""

ENVIRONMENT_ENV_VAR: Final = "ATTUNE_ENV"
"""Selects the environment: ``development`` (default), ``test`` or ``production``."""

CONFIG_FILE_NAME: Final = "config.yaml"

# Both secrets need 32 characters: the encryption key feeds AES-256 (32 bytes of key material)
# and RFC 7518 section 3.2 requires an HS256 key at least as long as its 256-bit hash output.
MIN_SECRET_LENGTH: Final = 32

# Fixed rather than generated per start: a development database keeps working across restarts
# (stored keys stay decryptable, issued tokens stay valid). They are public, hence insecure, and
# production refuses them by value.
DEV_JWT_SECRET: Final = "attune-insecure-development-jwt-secret-do-not-use-in-production"
DEV_ENCRYPTION_KEY: Final = "attune-insecure-development-encryption-key-do-not-use-in-production"

_MIB: Final = 1024 * 1024
_REDACTED: Final = "<redacted>"
_LOG_LEVELS: Final = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_PG_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class Environment(enum.StrEnum):
    """The deployment environment, chosen by ``ATTUNE_ENV``."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class LogFormat(enum.StrEnum):
    """How services render log records."""

    CONSOLE = "console"
    JSON = "json"


# --------------------------------------------------------------------------------------------
# Value rules. They raise _InvalidSetting, which carries the attribute name: cattrs adds the
# section on the way up, so the loader can report the full key and where its value came from.
# --------------------------------------------------------------------------------------------


class _InvalidSetting(ValueError):
    """A value breaks the rule of its setting (out of range, malformed URL, too short)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


_Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _at_least(minimum: int) -> _Validator:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
        if value < minimum:
            raise _InvalidSetting(attribute.name, f"must be at least {minimum}, got {value}")

    return check


def _positive(_instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise _InvalidSetting(attribute.name, f"must be greater than 0, got {value}")


def _port(_instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    # 0 is allowed on purpose: the OS picks a free port, which tests and parallel runs rely on.
    if not 0 <= value <= 65535:
        raise _InvalidSetting(
            attribute.name, f"must be a TCP port between 0 and 65535, got {value}"
        )


def _secret(_instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    # The message gives the length only: a secret never appears in an error.
    if len(value) < MIN_SECRET_LENGTH:
        raise _InvalidSetting(
            attribute.name,
            f"must be at least {MIN_SECRET_LENGTH} characters long, got {len(value)}",
        )


def _log_level(_instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in _LOG_LEVELS:
        raise _InvalidSetting(
            attribute.name, f"must be one of {', '.join(_LOG_LEVELS)}, got {value!r}"
        )


_NOTIFICATION_SOURCES = ("bus", "postgresql")


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _notification_source(_instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in _NOTIFICATION_SOURCES:
        raise _InvalidSetting(
            attribute.name, f"must be one of {', '.join(_NOTIFICATION_SOURCES)}, got {value!r}"
        )


def _pg_schema(_instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    # The schema ends up in `SET search_path`, so only plain identifiers are accepted.
    if value and not _PG_IDENTIFIER.fullmatch(value):
        raise _InvalidSetting(
            attribute.name,
            f"must be a plain PostgreSQL identifier (letters, digits, _), got {value!r}",
        )


def _amqp_url(_instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if value == "":
        return
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("amqp", "amqps") or not parts.hostname:
        raise _InvalidSetting(
            attribute.name,
            "must be an amqp:// or amqps:// URL with a host "
            "(e.g. amqp://guest:guest@127.0.0.1:5672/), or empty for the in-memory bus",
        )
    try:
        parts.port  # noqa: B018 - urllib validates the port lazily, on access
    except ValueError:
        raise _InvalidSetting(attribute.name, "has a port that is not a number") from None


def _http_url(_instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if value == "":
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _InvalidSetting(attribute.name, "must be an http:// or https:// URL with a host")


def _address(_instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if value == "":
        return
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise _InvalidSetting(
            attribute.name, f"must be host:port (e.g. 0.0.0.0:8090) or empty, got {value!r}"
        )


def _upper(value: str) -> str:
    return value.upper()


def _strip_slash(value: str) -> str:
    return value.rstrip("/")


def _database_url(value: str) -> str:
    try:
        return normalize_database_url(value)
    except ValueError as exc:
        raise _InvalidSetting("url", str(exc)) from None


_PG_SCHEMES: Final = frozenset({"postgres", "postgresql", "postgresql+asyncpg"})
_SQLITE_SCHEMES: Final = frozenset({"sqlite", "sqlite+aiosqlite"})
_DB_URL_EXAMPLES: Final = (
    "postgresql://user:password@host:5432/attune or sqlite:///path/to/attune.db"
)


def normalize_database_url(url: str) -> str:
    """Return ``url`` in the async-driver form Attune's storage layer uses.

    ``postgres://`` and ``postgresql://`` become ``postgresql+asyncpg://``; ``sqlite://``
    becomes ``sqlite+aiosqlite://``. The rest of the URL is kept as written.

    Args:
        url: A SQLAlchemy-style database URL.

    Returns:
        The normalised URL.

    Raises:
        ValueError: The URL is malformed or names a database or driver Attune does not use.
            The message never contains the URL, which may hold a password.
    """
    # Imported here, not at module level: it keeps `import attune_core.config` cheap for the
    # CLI, which reads settings without touching a database.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    scheme, separator, rest = url.partition("://")
    if not separator or not scheme:
        raise ValueError(f"is not a database URL; expected e.g. {_DB_URL_EXAMPLES}")
    lowered = scheme.lower()
    if lowered in _PG_SCHEMES:
        normalized = f"postgresql+asyncpg://{rest}"
    elif lowered in _SQLITE_SCHEMES:
        normalized = f"sqlite+aiosqlite://{rest}"
    elif lowered.startswith(("postgresql+", "postgres+")):
        raise ValueError(
            f"uses the driver {scheme!r}; Attune talks to PostgreSQL through asyncpg only: "
            "write postgresql:// or postgresql+asyncpg://"
        )
    elif lowered.startswith("sqlite+"):
        raise ValueError(
            f"uses the driver {scheme!r}; Attune talks to SQLite through aiosqlite only: "
            "write sqlite:// or sqlite+aiosqlite://"
        )
    else:
        raise ValueError(
            f"has the unsupported scheme {scheme!r}; Attune runs on PostgreSQL or SQLite, "
            f"e.g. {_DB_URL_EXAMPLES}"
        )
    try:
        make_url(normalized)
    except (ArgumentError, ValueError):
        raise ValueError(
            "cannot be parsed as a database URL (is the port a number, and are special "
            f"characters in the password percent-encoded?); expected e.g. {_DB_URL_EXAMPLES}"
        ) from None
    return normalized


# --------------------------------------------------------------------------------------------
# The settings. Field metadata: "secret" fields are never shown; "url" fields hide a password.
# --------------------------------------------------------------------------------------------

_SECRET: Final = {"secret": True}
_URL: Final = {"url": True}


@attrs.frozen(kw_only=True)
class DatabaseSettings:
    """Where the data lives (section ``database``).

    Attributes:
        url: SQLAlchemy URL, normalised to ``postgresql+asyncpg://`` or ``sqlite+aiosqlite://``.
            Defaults to ``sqlite+aiosqlite:///{data_dir}/attune.db``.
        pool_size: Connections kept open per process (PostgreSQL only).
        max_overflow: Extra connections allowed above ``pool_size`` under load (PostgreSQL only).
        pool_timeout: Seconds to wait for a free connection before failing.
        echo: Log every SQL statement (debugging only; very verbose).
        schema: PostgreSQL schema put first on ``search_path``; empty uses the server default.
    """

    url: str = attrs.field(converter=_database_url, metadata=_URL)
    # SQLAlchemy's own pool defaults: at most 15 connections per process, so six Attune
    # processes fit in PostgreSQL's default max_connections (100).
    pool_size: int = attrs.field(default=5, validator=_at_least(1))
    max_overflow: int = attrs.field(default=10, validator=_at_least(0))
    pool_timeout: float = attrs.field(default=30.0, validator=_positive)
    echo: bool = False
    schema: str = attrs.field(default="", validator=_pg_schema)

    @property
    def is_sqlite(self) -> bool:
        """True when the URL names SQLite (the embedded default)."""
        return self.url.startswith("sqlite+aiosqlite:")


@attrs.frozen(kw_only=True)
class MessageQueueSettings:
    """The message bus (section ``message_queue``).

    Attributes:
        url: ``amqp://`` or ``amqps://`` URL of RabbitMQ; empty selects the in-memory bus,
            which only works when every component runs in one process (embedded mode).
        prefetch_count: Unacknowledged messages one consumer may hold.
        connect_timeout: Seconds to wait for the broker when connecting.
        heartbeat: AMQP heartbeat in seconds (0 disables it).
        name_prefix: Prefix of every exchange and queue name, so several installations (or
            test runs) can share one broker without seeing each other's messages.
        reconcile_after: Seconds an execution may stay ``requested``, ``scheduling`` or
            ``scheduled`` (or a finished workflow task wait for its workflow) before the
            executors take its message as lost and publish it again (``attune serve
            executor``): a process killed between a commit and its publish loses nothing.
        reconcile_interval: Seconds between the executors' looks for such work.
        announce_events: Publish ``event.created`` and ``enforcement.created`` for each event
            (distributed services). No Attune service consumes them (the notifications carry
            the same news), so they are off unless another program binds a queue to them.
        notification_linger: Seconds a distributed service collects the notifications of its
            commits before publishing them as one ``notification.created`` message (0 sends
            one message per commit). WebSocket clients see changes up to this much later;
            a short action's ``running`` and ``completed`` cost one message instead of two.
    """

    url: str = attrs.field(default="", validator=_amqp_url, metadata=_URL)
    # Small, so a slow worker does not hoard messages an idle one could take.
    prefetch_count: int = attrs.field(default=10, validator=_at_least(1))
    connect_timeout: float = attrs.field(default=10.0, validator=_positive)
    heartbeat: int = attrs.field(default=60, validator=_at_least(0))  # RabbitMQ's default
    name_prefix: str = ""
    # A minute: longer than work usually waits in a worker's queue, so hints are rarely sent
    # for work that is only slow; a lost message costs at most about a minute and a half.
    reconcile_after: float = attrs.field(default=60.0, validator=_positive)
    reconcile_interval: float = attrs.field(default=20.0, validator=_positive)
    announce_events: bool = False
    notification_linger: float = attrs.field(default=0.05, validator=_at_least(0))

    @property
    def in_memory(self) -> bool:
        """True when no broker is configured and the in-process bus is used."""
        return self.url == ""


@attrs.frozen(kw_only=True)
class ServerSettings:
    """The HTTP API and the notifier (section ``server``).

    Attributes:
        host: Interface the API listens on. Loopback by default so that a fresh install is
            not reachable from the network; ``0.0.0.0`` listens everywhere.
        port: API port (0 lets the OS choose).
        notifier_port: WebSocket port of the stand-alone notifier service.
        public_url: Base URL under which clients and actions reach the API (given to actions
            as ``ATTUNE_API_URL``). Defaults to ``http://{host}:{port}``, with a wildcard host
            replaced by 127.0.0.1.
        cors_origins: Origins allowed to call the API from a browser; empty allows none
            besides the API's own.
        request_body_limit: Largest accepted request body in bytes (larger ones get 413).
        notification_source: Where ``attune serve api`` and ``attune serve notifier`` get the
            notifications they stream: ``bus`` (``notification.created`` on RabbitMQ) or
            ``postgresql`` (LISTEN/NOTIFY on the ``notification`` table, which the executors
            fill). The all-in-one server always uses its bus.
        health_address: ``host:port`` where ``attune serve executor``, ``worker`` and
            ``sensor`` answer health probes (``/health/live``, ``/health/ready``); empty: they
            serve none. The API and the notifier answer ``/health`` on their own port.
    """

    host: str = "127.0.0.1"
    port: int = attrs.field(default=8080, validator=_port)
    notifier_port: int = attrs.field(default=8081, validator=_port)
    public_url: str = attrs.field(default="", converter=_strip_slash, validator=_http_url)
    cors_origins: tuple[str, ...] = ()
    request_body_limit: int = attrs.field(default=10 * _MIB, validator=_at_least(1))
    notification_source: str = attrs.field(
        default="bus", converter=_lower, validator=_notification_source
    )
    health_address: str = attrs.field(default="", validator=_address)


@attrs.frozen(kw_only=True)
class SecuritySettings:
    """Secrets and token lifetimes (section ``security``).

    Attributes:
        jwt_secret: HMAC key signing access, refresh and sensor tokens (>= 32 characters).
        encryption_key: Key protecting stored secrets (>= 32 characters). Changing it makes
            existing encrypted keys unreadable.
        access_token_ttl: Access token lifetime in seconds.
        refresh_token_ttl: Refresh token lifetime in seconds.
        sensor_token_ttl: Lifetime in seconds of the tokens given to sensor processes.
        allow_self_registration: Whether ``POST /auth/register`` creates identities.
    """

    jwt_secret: str = attrs.field(validator=_secret, metadata=_SECRET, repr=False)
    encryption_key: str = attrs.field(validator=_secret, metadata=_SECRET, repr=False)
    access_token_ttl: int = attrs.field(default=3600, validator=_at_least(1))
    refresh_token_ttl: int = attrs.field(default=7 * 24 * 3600, validator=_at_least(1))
    sensor_token_ttl: int = attrs.field(default=24 * 3600, validator=_at_least(1))
    allow_self_registration: bool


@attrs.frozen(kw_only=True)
class WorkerSettings:
    """Limits of the process that runs actions (section ``worker``).

    Attributes:
        name: Name the worker registers under; empty lets the worker use the host name.
        runtimes: Runtimes this worker offers (e.g. ``shell``, ``python``); empty offers
            every runtime available on the host.
        max_concurrent_executions: Executions one worker runs at the same time.
        default_timeout: Seconds an action may run when it declares no timeout.
        max_stdout_bytes: Bytes of stdout kept per execution; the rest is cut off.
        max_stderr_bytes: Bytes of stderr kept per execution; the rest is cut off.
        heartbeat_interval: Seconds between worker heartbeats.
        heartbeat_stale_after: Seconds without a heartbeat after which a worker counts as dead
            and its running executions are abandoned. Must exceed ``heartbeat_interval``.
        kill_grace_period: Seconds between SIGTERM and SIGKILL when an action times out or is
            cancelled.
        stop_grace_period: Seconds a worker service (``attune serve worker``) being stopped
            (SIGTERM, Ctrl-C) lets the actions it is running finish, taking no new work; those
            still running then are stopped (``kill_grace_period`` applies) and end
            ``abandoned``. 0 stops them at once.
    """

    name: str = ""
    runtimes: tuple[str, ...] = ()
    max_concurrent_executions: int = attrs.field(default=10, validator=_at_least(1))
    default_timeout: int = attrs.field(default=300, validator=_at_least(1))
    max_stdout_bytes: int = attrs.field(default=10 * _MIB, validator=_at_least(0))
    max_stderr_bytes: int = attrs.field(default=10 * _MIB, validator=_at_least(0))
    heartbeat_interval: float = attrs.field(default=10.0, validator=_positive)
    # Three missed heartbeats: one late beat (a GC pause, a busy database) is not a death.
    heartbeat_stale_after: float = attrs.field(default=30.0, validator=_positive)
    kill_grace_period: float = attrs.field(default=5.0, validator=_at_least(0))
    # With kill_grace_period, within the 40 s that `attune up --distributed`, the systemd unit
    # and the compose file give a service to stop.
    stop_grace_period: float = attrs.field(default=25.0, validator=_at_least(0))

    def __attrs_post_init__(self) -> None:
        if self.heartbeat_stale_after <= self.heartbeat_interval:
            raise _InvalidSetting(
                "heartbeat_stale_after",
                f"must be greater than heartbeat_interval ({self.heartbeat_interval}), "
                f"got {self.heartbeat_stale_after}",
            )


@attrs.frozen(kw_only=True)
class SensorSettings:
    """The sensor host (section ``sensor``).

    Attributes:
        poll_interval: Seconds between checks of the database for sensors that were added,
            changed or disabled (a safety net: changes are also announced on the bus).
        max_restarts: Consecutive restarts of a crashing sensor process before it is left
            stopped and reported as failed.
        restart_backoff: Seconds before the first restart; doubled after each further crash.
        max_restart_backoff: Upper bound of the wait between restarts, in seconds.
        lease_ttl: Seconds a sensor host holds the lease of a timer or sensor without renewing
            it (``attune serve sensor``; renewed every third of it). A host that dies has its
            timers and sensors taken over by another host within about this time.
    """

    poll_interval: float = attrs.field(default=10.0, validator=_positive)
    max_restarts: int = attrs.field(default=5, validator=_at_least(0))
    restart_backoff: float = attrs.field(default=1.0, validator=_positive)
    max_restart_backoff: float = attrs.field(default=60.0, validator=_positive)
    lease_ttl: float = attrs.field(default=15.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.max_restart_backoff < self.restart_backoff:
            raise _InvalidSetting(
                "max_restart_backoff",
                f"must be at least restart_backoff ({self.restart_backoff}), "
                f"got {self.max_restart_backoff}",
            )


@attrs.frozen(kw_only=True)
class RetentionSettings:
    """How long history is kept (section ``retention``); older rows are purged by a job.

    Attributes:
        events_days: Days events are kept.
        enforcements_days: Days enforcements are kept.
        executions_days: Days finished executions are kept (unfinished ones never expire).
        execution_history_days: Days execution history records are kept.
        worker_history_days: Days worker history records are kept.
        interval: Seconds between two runs of the purge job.
        batch_size: Rows deleted per transaction; the job yields between batches so it never
            blocks the engine.
    """

    events_days: int = attrs.field(default=90, validator=_at_least(1))
    enforcements_days: int = attrs.field(default=90, validator=_at_least(1))
    executions_days: int = attrs.field(default=90, validator=_at_least(1))
    execution_history_days: int = attrs.field(default=90, validator=_at_least(1))
    worker_history_days: int = attrs.field(default=180, validator=_at_least(1))
    interval: float = attrs.field(default=3600.0, validator=_positive)
    batch_size: int = attrs.field(default=1000, validator=_at_least(1))


@attrs.frozen(kw_only=True)
class LogSettings:
    """Logging of the services and the CLI (section ``log``); the library only emits records.

    Attributes:
        level: Minimum level: DEBUG, INFO, WARNING, ERROR or CRITICAL (any case).
        format: ``console`` (readable) or ``json`` (one object per line). JSON in production.
    """

    level: str = attrs.field(default="INFO", converter=_upper, validator=_log_level)
    format: LogFormat


@attrs.frozen(kw_only=True)
class Settings:
    """All of Attune's settings. Build with :func:`load_settings` or :meth:`defaults`.

    Attributes:
        env: The environment, chosen by ``ATTUNE_ENV`` (never by a config file).
        data_dir: Directory for Attune's own data; the defaults of ``database.url``,
            ``packs_base_dir`` and ``runtime_envs_dir`` live under it.
        packs_base_dir: Directory of installed packs (``{packs_base_dir}/{pack_ref}``).
        runtime_envs_dir: Directory of per-pack runtime environments (virtualenvs,
            node_modules): ``{runtime_envs_dir}/{pack_ref}/{runtime}``.
        database: See :class:`DatabaseSettings`.
        message_queue: See :class:`MessageQueueSettings`.
        server: See :class:`ServerSettings`.
        security: See :class:`SecuritySettings`.
        worker: See :class:`WorkerSettings`.
        sensor: See :class:`SensorSettings`.
        retention: See :class:`RetentionSettings`.
        log: See :class:`LogSettings`.
    """

    env: Environment
    data_dir: Path
    packs_base_dir: Path
    runtime_envs_dir: Path
    database: DatabaseSettings
    message_queue: MessageQueueSettings = attrs.Factory(MessageQueueSettings)
    server: ServerSettings = attrs.Factory(ServerSettings)
    security: SecuritySettings
    worker: WorkerSettings = attrs.Factory(WorkerSettings)
    sensor: SensorSettings = attrs.Factory(SensorSettings)
    retention: RetentionSettings = attrs.Factory(RetentionSettings)
    log: LogSettings

    @classmethod
    def defaults(
        cls,
        env: Environment | str = Environment.DEVELOPMENT,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Return the built-in defaults of ``env``, ignoring config files and ``ATTUNE__*``.

        Args:
            env: The environment whose defaults to build.
            environ: Where ``HOME`` and ``XDG_DATA_HOME`` are looked up for the default
                ``data_dir``; ``os.environ`` when omitted.

        Returns:
            Settings for the embedded mode: SQLite and packs under ``data_dir``, in-memory bus.

        Raises:
            ConfigError: ``env`` is unknown, or is production, which has no default secrets.
        """
        environ = os.environ if environ is None else environ
        environment = _pick_environment(env, environ)
        return _build(environment, [], environ=environ, base_dir=Path.cwd())

    def redacted(self) -> dict[str, Any]:
        """Return the effective settings as plain data with every secret hidden.

        Secrets read ``"<redacted>"`` and passwords inside URLs ``***``; paths are strings and
        lists are lists, so the result can be dumped as YAML or JSON (``attune config show``).

        Returns:
            A nested dict shaped like ``config.yaml``, plus the ``env`` key.
        """
        return _plain(self)


def env_var_name(key: str) -> str:
    """Return the variable that overrides the dotted setting ``key``.

    Args:
        key: A dotted key such as ``server.port``.

    Returns:
        The variable name, e.g. ``ATTUNE__SERVER__PORT``.
    """
    return ENV_PREFIX + "__".join(part.upper() for part in key.split("."))


# --------------------------------------------------------------------------------------------
# Loading.
# --------------------------------------------------------------------------------------------

_Key = tuple[str, ...]


@attrs.frozen
class _Origin:
    """Where a value came from: a config file (and line), a variable, or the defaults."""

    kind: Literal["default", "file", "env"]
    where: str = ""
    line: int | None = None

    def describe(self) -> str:
        if self.kind == "file":
            return f"in {self.where}:{self.line}" if self.line else f"in {self.where}"
        if self.kind == "env":
            return f"from environment variable {self.where}"
        return "from the built-in defaults"

    def label(self) -> str:
        """The bare source, for machine use: ``path:line``, a variable name or ``default``."""
        if self.kind == "file":
            return f"{self.where}:{self.line}" if self.line else self.where
        return self.where if self.kind == "env" else "default"

    def base_dir(self, cwd: Path) -> Path:
        # A relative path means "next to the file that says so"; elsewhere, the working dir.
        return Path(self.where).parent if self.kind == "file" else cwd


_DEFAULT: Final = _Origin("default")

# Settings as leaves: each dotted key maps to its value and origin. Layers merge key by key.
_Layer = dict[_Key, tuple[Any, _Origin]]


@attrs.frozen
class _Problem:
    key: _Key
    origin: _Origin | None
    message: str
    fix: str

    def render(self) -> str:
        where = f" {self.origin.describe()}" if self.origin else ""
        return f"{'.'.join(self.key)}{where}: {self.message}. {self.fix}"


def load_settings(
    *,
    env: Environment | str | None = None,
    config_path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
) -> Settings:
    """Load settings from defaults, config files and ``ATTUNE__*`` variables, in that order.

    Files: ``config_path`` if given, else ``ATTUNE_CONFIG`` if set, else ``config.yaml`` and
    ``config.{env}.yaml`` in ``base_dir``. A file path also picks up its sibling overlay
    ``{stem}.{env}{suffix}``; a directory is searched for ``config.yaml`` and
    ``config.{env}.yaml``. Missing files in a searched directory are fine; a missing
    ``config_path`` or ``ATTUNE_CONFIG`` target is an error.

    Args:
        env: The environment; defaults to ``ATTUNE_ENV``, then ``development``.
        config_path: A config file or directory, taking precedence over ``ATTUNE_CONFIG``.
        environ: The environment variables to read; ``os.environ`` when omitted.
        base_dir: The directory searched for config files, and the base of relative paths
            given in variables; the current directory when omitted.

    Returns:
        The validated, frozen settings.

    Raises:
        ConfigError: A file cannot be read or parsed, a key is unknown, a value has the wrong
            type or breaks a rule, or production lacks its secrets. The message has one line
            per problem naming the key, its source and the fix; ``details`` lists them.
    """
    environ = os.environ if environ is None else environ
    base = Path(os.path.abspath(base_dir)) if base_dir is not None else Path.cwd()
    environment = _pick_environment(env, environ)
    files = _locate_files(environment, config_path, environ, base)
    sections: dict[_Key, _Origin] = {}
    layers = [_read_config_file(path, sections) for path in files]
    layers.extend(_env_layers(environ))
    settings = _build(environment, layers, environ=environ, base_dir=base, sections=sections)
    logger.debug(
        "settings loaded for %s from %s",
        environment.value,
        ", ".join(map(str, files)) or "defaults and environment only",
        extra={"config_files": [str(path) for path in files], "env": environment.value},
    )
    return settings


def config_files(
    *,
    env: Environment | str | None = None,
    config_path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Return the config files :func:`load_settings` would read, lowest priority first.

    Arguments are those of :func:`load_settings`.

    Returns:
        Existing files only, e.g. ``[.../config.yaml, .../config.production.yaml]``.

    Raises:
        ConfigError: ``env`` is unknown, or ``config_path`` / ``ATTUNE_CONFIG`` names nothing.
    """
    environ = os.environ if environ is None else environ
    base = Path(os.path.abspath(base_dir)) if base_dir is not None else Path.cwd()
    return _locate_files(_pick_environment(env, environ), config_path, environ, base)


def _pick_environment(env: Environment | str | None, environ: Mapping[str, str]) -> Environment:
    if env is not None:
        raw, source = str(env), "the env argument"
    else:
        raw, source = environ.get(ENVIRONMENT_ENV_VAR, ""), ENVIRONMENT_ENV_VAR
    value = raw.strip().lower() or Environment.DEVELOPMENT.value
    try:
        return Environment(value)
    except ValueError:
        choices = ", ".join(member.value for member in Environment)
        raise ConfigError(
            f"{source} is {raw!r}, which is not an environment. Use one of: {choices}.",
            details=[{"key": ENVIRONMENT_ENV_VAR, "source": source, "message": "unknown"}],
        ) from None


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME")
    return Path(home) if home else Path.home()


def _absolute_path(raw: str, base: Path, home: Path) -> Path:
    # "~" is expanded with the given environ's HOME (not os.environ's), like the default data dir.
    tilde = raw == "~" or raw.startswith("~/")
    path = home / raw[2:] if tilde else Path(os.path.expanduser(raw))
    if not path.is_absolute():
        path = base / path
    # normpath, not resolve(): the path may not exist yet, and symlinks are left as written.
    return Path(os.path.normpath(path))


def _default_data_dir(environ: Mapping[str, str], home: Path) -> Path:
    # The XDG base-directory spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    xdg = environ.get("XDG_DATA_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "attune"
    return home / ".local" / "share" / "attune"


def _locate_files(
    environment: Environment,
    config_path: str | os.PathLike[str] | None,
    environ: Mapping[str, str],
    base: Path,
) -> list[Path]:
    overlay_name = f"config.{environment.value}.yaml"
    if config_path is not None:
        raw, source = os.fspath(config_path), "the config_path argument"
    elif environ.get(CONFIG_ENV_VAR):
        raw, source = environ[CONFIG_ENV_VAR], CONFIG_ENV_VAR
    else:
        return [path for path in (base / CONFIG_FILE_NAME, base / overlay_name) if path.is_file()]
    target = _absolute_path(raw, base, _home(environ))
    if target.is_dir():
        candidates = [target / CONFIG_FILE_NAME, target / overlay_name]
        return [path for path in candidates if path.is_file()]
    if target.is_file():
        overlay = target.with_name(f"{target.stem}.{environment.value}{target.suffix}")
        return [target, overlay] if overlay.is_file() else [target]
    raise ConfigError(
        f"{source} points to {target}, which does not exist. Fix the path, or unset "
        f"{CONFIG_ENV_VAR} to read {CONFIG_FILE_NAME} from the current directory.",
        details=[{"key": CONFIG_ENV_VAR, "source": source, "message": "missing"}],
    )


def _read_config_file(path: Path, sections: dict[_Key, _Origin]) -> _Layer:
    """Read one file into a layer; record where each section starts in ``sections``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ConfigError(
            f"cannot read config file {path}: {reason}. Check the path and its permissions."
        ) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}. Fix the syntax there.") from None
    finally:
        loader.dispose()
    if data is None:
        return {}  # an empty (or all-comments) file sets nothing
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: a config file must be a mapping of sections and keys "
            f"(e.g. 'server:\\n  port: 8080'), not {_describe(data)}."
        )
    lines: dict[_Key, int] = {}
    if node is not None:
        _record_lines(node, (), lines, path)
    layer: _Layer = {}

    def origin(key: _Key) -> _Origin:
        # Keys brought in through YAML merge keys (<<) have no line of their own; use the
        # nearest enclosing key's line.
        for depth in range(len(key), 0, -1):
            if key[:depth] in lines:
                return _Origin("file", str(path), lines[key[:depth]])
        return _Origin("file", str(path))

    _flatten(data, (), origin, layer)
    sections.update((key, origin(key)) for key in lines if key not in layer)
    return layer


def _record_lines(node: yaml.Node, prefix: _Key, lines: dict[_Key, int], path: Path) -> None:
    if not isinstance(node, yaml.MappingNode):
        return
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = (*prefix, str(key_node.value))
        line = key_node.start_mark.line + 1
        if key in lines:
            # PyYAML keeps the last duplicate silently; a setting given twice is a mistake.
            raise ConfigError(
                f"{path}:{line}: {'.'.join(key)} is set twice (first at line {lines[key]}). "
                "Remove one of them."
            )
        lines[key] = line
        _record_lines(value_node, key, lines, path)


def _flatten(value: Any, prefix: _Key, origin: Callable[[_Key], _Origin], out: _Layer) -> None:
    if isinstance(value, dict):
        # An empty section (`server: {}`) sets nothing; non-string keys become strings so that
        # they are reported as unknown settings like any other typo.
        for key, item in value.items():
            _flatten(item, (*prefix, str(key)), origin, out)
        return
    if value is None and prefix and attrs.has(_setting_type(prefix)):
        return  # `server:` with every key commented out: an empty section, not a null
    out[prefix] = (value, origin(prefix))


def _env_layers(environ: Mapping[str, str]) -> list[_Layer]:
    entries: list[tuple[_Key, str, str]] = []
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
        if not all(key):
            raise ConfigError(
                f"environment variable {name} is malformed: expected {ENV_PREFIX}SECTION__KEY "
                f"or {ENV_PREFIX}KEY, with exactly two underscores between the parts. "
                "Rename or unset it."
            )
        entries.append((key, name, raw))
    # One layer per variable, shallow keys first, so ATTUNE__SERVER__PORT beats a whole
    # section given as ATTUNE__SERVER='{port: 1}' regardless of the environment's order.
    entries.sort(key=lambda entry: (len(entry[0]), entry[0]))
    layers: list[_Layer] = []
    for key, name, raw in entries:
        layer: _Layer = {}
        origin = functools.partial(_same_origin, _Origin("env", name))
        _flatten(_parse_env_value(raw, _setting_type(key)), key, origin, layer)
        layers.append(layer)
    return layers


def _same_origin(origin: _Origin, _key: _Key) -> _Origin:
    return origin  # every key inside one variable's value comes from that variable


def _parse_env_value(raw: str, target: Any) -> Any:
    # Strings and paths are taken literally: parsing "0123" or "1e10" as YAML would turn a
    # password or a directory name into a number.
    if target is str or target is Path:
        return raw
    if target == tuple[str, ...]:
        parsed = _yaml_scalar(raw)
        if parsed is None:
            return []
        if isinstance(parsed, str):
            return [item.strip() for item in raw.split(",") if item.strip()]
        return parsed
    return _yaml_scalar(raw)


def _yaml_scalar(raw: str) -> Any:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw  # not YAML: let the type check report the string as it was written


def _merge(layers: list[_Layer]) -> _Layer:
    merged: _Layer = {}
    for layer in layers:
        for key, entry in layer.items():
            # A later key replaces everything it overlaps: the subtree below it (a section
            # given as a whole) and any value above it (a section that was set to a scalar).
            for other in [k for k in merged if _overlaps(k, key)]:
                del merged[other]
            merged[key] = entry
    return merged


def _overlaps(a: _Key, b: _Key) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


@functools.cache
def _type_hints(cls: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _setting_type(key: _Key) -> Any:
    """The declared type at ``key`` (a section class for a section), or None if no such key."""
    current: Any = Settings
    for part in key:
        if not attrs.has(current):
            return None
        current = _type_hints(current).get(part)
        if current is None:
            return None
    return current


def _field(key: _Key) -> attrs.Attribute[Any] | None:
    if not key:
        return None
    owner = _setting_type(key[:-1])
    if not attrs.has(owner):
        return None
    return attrs.fields_dict(owner).get(key[-1])


def _default_layer(environment: Environment, environ: Mapping[str, str], home: Path) -> _Layer:
    values: dict[_Key, Any] = {
        ("env",): environment.value,
        ("data_dir",): str(_default_data_dir(environ, home)),
        # Self-registration is convenient on a laptop and an open door anywhere else.
        ("security", "allow_self_registration"): environment is Environment.DEVELOPMENT,
        ("log", "format"): (
            LogFormat.JSON if environment is Environment.PRODUCTION else LogFormat.CONSOLE
        ).value,
    }
    if environment is not Environment.PRODUCTION:
        values[("security", "jwt_secret")] = DEV_JWT_SECRET
        values[("security", "encryption_key")] = DEV_ENCRYPTION_KEY
    return {key: (value, _DEFAULT) for key, value in values.items()}


def _build(
    environment: Environment,
    layers: list[_Layer],
    *,
    environ: Mapping[str, str],
    base_dir: Path,
    sections: Mapping[_Key, _Origin] | None = None,
) -> Settings:
    home = _home(environ)
    sections = sections or {}
    problems: list[_Problem] = []
    merged = _merge([_default_layer(environment, environ, home), *layers])

    # The environment picks the files, so a file (or ATTUNE__ENV) cannot choose it.
    for key in [key for key in merged if key[0] == "env"]:
        origin = merged.pop(key)[1]
        if origin is not _DEFAULT:
            problems.append(
                _Problem(
                    key,
                    origin,
                    "the environment cannot be set as a setting",
                    f"Remove it and set {ENVIRONMENT_ENV_VAR} instead.",
                )
            )
    merged[("env",)] = (environment.value, _DEFAULT)

    _resolve_paths(merged, base_dir, home)
    _derive_from_data_dir(merged, environ, home)
    if environment is Environment.PRODUCTION:
        problems.extend(_production_problems(merged))
    settings: Settings | None = None
    try:
        settings = _converter().structure(_unflatten(merged), Settings)
    except ClassValidationError as exc:
        for key, error in _leaf_errors(exc, ()):
            # One line per key: a production secret reported missing above is also a
            # required field cattrs did not get.
            if all(problem.key != key for problem in problems):
                problems.append(_problem(key, error, merged, sections))
    if problems or settings is None:
        raise ConfigError(
            "\n".join(problem.render() for problem in problems),
            details=[
                {
                    "key": ".".join(problem.key),
                    "source": problem.origin.label() if problem.origin else None,
                    "message": problem.message,
                }
                for problem in problems
            ],
        )
    return _finish(settings)


def _resolve_paths(merged: _Layer, base_dir: Path, home: Path) -> None:
    for key, (value, origin) in list(merged.items()):
        if not isinstance(value, str) or not value:
            continue  # wrong types are reported by the type check, with their source
        if _setting_type(key) is Path:
            resolved = _absolute_path(value, origin.base_dir(base_dir), home)
            merged[key] = (str(resolved), origin)
        elif key == ("database", "url"):
            merged[key] = (_absolute_sqlite_url(value, origin.base_dir(base_dir), home), origin)


def _absolute_sqlite_url(url: str, base: Path, home: Path) -> str:
    """Anchor a relative SQLite file like any other relative path; other URLs are unchanged."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return url  # malformed: DatabaseSettings reports it
    database = parsed.database
    if not parsed.drivername.lower().startswith("sqlite") or not database:
        return url
    if database == ":memory:" or database.startswith("file:"):
        return url
    resolved = str(_absolute_path(database, base, home))
    if resolved == database:
        return url
    return parsed.set(database=resolved).render_as_string(hide_password=False)


def _derive_from_data_dir(merged: _Layer, environ: Mapping[str, str], home: Path) -> None:
    value = merged[("data_dir",)][0]
    # A data_dir of the wrong type is reported on its own; derive from the default meanwhile so
    # it is not followed by confusing errors about the settings derived from it.
    data_dir = Path(value) if isinstance(value, str) and value else _default_data_dir(environ, home)
    from sqlalchemy.engine import URL

    derived: dict[_Key, str] = {
        # URL.create escapes characters such as '?' or '#' that a directory name may contain.
        ("database", "url"): URL.create(
            "sqlite+aiosqlite", database=str(data_dir / "attune.db")
        ).render_as_string(),
        ("packs_base_dir",): str(data_dir / "packs"),
        ("runtime_envs_dir",): str(data_dir / "runtime_envs"),
    }
    for key, default in derived.items():
        if not any(_overlaps(key, other) for other in merged):
            merged[key] = (default, _DEFAULT)


def _production_problems(merged: _Layer) -> Iterator[_Problem]:
    for key, development_value in (
        (("security", "jwt_secret"), DEV_JWT_SECRET),
        (("security", "encryption_key"), DEV_ENCRYPTION_KEY),
    ):
        fix = (
            f"Set {env_var_name('.'.join(key))} (or {key[-1]} in the security section of "
            f"config.production.yaml) to a random value of at least {MIN_SECRET_LENGTH} "
            "characters, e.g. from: python -c 'import secrets; print(secrets.token_urlsafe(48))'."
        )
        entry = merged.get(key)
        if entry is None:
            yield _Problem(key, None, "is not set, and production requires it", fix)
        elif entry[0] == development_value:
            yield _Problem(
                key, entry[1], "is the public development default, which production refuses", fix
            )


def _unflatten(merged: _Layer) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, (value, _origin) in merged.items():
        node = root
        for part in key[:-1]:
            node = node.setdefault(part, {})
        node[key[-1]] = value
    return root


def _finish(settings: Settings) -> Settings:
    server = settings.server
    if server.public_url:
        return settings
    host = server.host if server.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal needs brackets in a URL
    public_url = f"http://{host}:{server.port}"
    return attrs.evolve(settings, server=attrs.evolve(server, public_url=public_url))


# --------------------------------------------------------------------------------------------
# Type checking through cattrs, and turning its errors into problems with a source.
# --------------------------------------------------------------------------------------------


class _WrongType(TypeError):
    def __init__(self, expected: str, value: Any) -> None:
        super().__init__(f"expected {expected}, got {_describe(value)}")
        self.expected = expected
        self.value = value


def _structure_str(value: Any, _type: Any) -> str:
    if not isinstance(value, str):
        raise _WrongType("a string (quote it in YAML)", value)
    return value


def _structure_int(value: Any, _type: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _WrongType("a whole number", value)
    return value


def _structure_float(value: Any, _type: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _WrongType("a number", value)
    return float(value)


def _structure_bool(value: Any, _type: Any) -> bool:
    if not isinstance(value, bool):
        raise _WrongType("true or false", value)
    return value


def _structure_path(value: Any, _type: Any) -> Path:
    if not isinstance(value, str) or not value:
        raise _WrongType("a directory path", value)
    return Path(value)


def _structure_str_tuple(value: Any, _type: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise _WrongType("a list of strings", value)
    return tuple(value)


def _structure_enum(value: Any, enum_type: type[enum.Enum]) -> enum.Enum:
    if isinstance(value, str):
        for member in enum_type:
            if member.value == value.strip().lower():
                return member
    raise _WrongType("one of " + ", ".join(str(member.value) for member in enum_type), value)


@functools.cache
def _converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    # Registered per class, not by predicate: cattrs' built-in hooks for primitives and enums
    # win over predicate hooks, and a str hook would also catch the StrEnums.
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(Path, _structure_path)
    for enum_type in (Environment, LogFormat):
        converter.register_structure_hook(enum_type, _structure_enum)
    converter.register_structure_hook_func(lambda cls: cls == tuple[str, ...], _structure_str_tuple)

    def section_hook(cls: type[Any]) -> Callable[[Any, Any], Any]:
        structure_fields = make_dict_structure_fn(cls, converter)

        def structure(value: Any, cls: Any) -> Any:
            # Without this check a scalar where a section belongs fails deep inside cattrs
            # with "argument of type 'int' is not iterable".
            if not isinstance(value, Mapping):
                raise _WrongType("a section of key: value pairs", value)
            return structure_fields(value, cls)

        return structure

    converter.register_structure_hook_factory(attrs.has, section_hook)
    return converter


def _leaf_errors(exc: BaseException, key: _Key) -> Iterator[tuple[_Key, BaseException]]:
    """Flatten cattrs' error tree into (full key, error) pairs."""
    if isinstance(exc, ClassValidationError):
        for error in exc.exceptions:
            notes = [
                n for n in getattr(error, "__notes__", ()) if isinstance(n, AttributeValidationNote)
            ]
            yield from _leaf_errors(error, (*key, notes[-1].name) if notes else key)
    elif isinstance(exc, ForbiddenExtraKeysError):
        for name in sorted(exc.extra_fields):
            yield (*key, name), exc
    elif isinstance(exc, _InvalidSetting):
        yield (*key, exc.field), exc  # raised by a class validator, which knows its attribute
    else:
        yield key, exc


def _origin_of(key: _Key, merged: _Layer, sections: Mapping[_Key, _Origin]) -> _Origin:
    if key in merged:
        return merged[key][1]
    if key in sections:
        return sections[key]  # a section header in a file, with its own line
    for other, (_value, origin) in merged.items():
        if other[: len(key)] == key:
            return origin  # an unknown section: the origin of a key inside it
    for depth in range(len(key) - 1, 0, -1):
        if key[:depth] in merged:
            return merged[key[:depth]][1]
    return _DEFAULT


def _problem(
    key: _Key, error: BaseException, merged: _Layer, sections: Mapping[_Key, _Origin]
) -> _Problem:
    origin = _origin_of(key, merged, sections)
    fix = {
        "env": "Fix the value, or unset the variable to use the default.",
        "file": "Fix the value, or remove it to use the default.",
        # Only a rule across fields can reject a default: the other field needs changing.
        "default": f"Set it (in a config file or as {env_var_name('.'.join(key))}) "
        "so that the rule holds, or change the other setting.",
    }[origin.kind]
    if isinstance(error, ForbiddenExtraKeysError):
        return _Problem(key, origin, "is not a setting", _unknown_key_fix(key, origin))
    if isinstance(error, _WrongType):
        field = _field(key)
        shown = (
            f"a value of the wrong type ({type(error.value).__name__})"
            if field is not None and field.metadata.get("secret")
            else _describe(error.value)
        )
        return _Problem(
            key,
            origin,
            f"expected {error.expected}, got {shown}",
            fix,
        )
    if isinstance(error, KeyError):
        return _Problem(key, None, "is required but not set", f"Set {env_var_name('.'.join(key))}.")
    if isinstance(error, _InvalidSetting):
        return _Problem(key, origin, error.reason, fix)
    return _Problem(key, origin, str(error), fix)


def _unknown_key_fix(key: _Key, origin: _Origin) -> str:
    owner = _setting_type(key[:-1])
    known = list(attrs.fields_dict(owner)) if attrs.has(owner) else []
    known = [name for name in known if name != "env"]
    close = difflib.get_close_matches(key[-1], known, n=1, cutoff=0.6)
    hint = ""
    if close:
        suggestion = ".".join((*key[:-1], close[0]))
        hint = f"Did you mean {env_var_name(suggestion) if origin.kind == 'env' else suggestion}? "
    action = "Rename or unset the variable" if origin.kind == "env" else "Rename or remove it"
    return f"{hint}{action}; docs/configuration.md lists every setting."


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int):
        return f"{value} (a whole number)"
    if isinstance(value, float):
        return f"{value} (a number)"
    if isinstance(value, str):
        # A URL written where a section belongs must not put its password into a log line.
        shown = _hide_password(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return f"{shown!r} (a string)" if value else "an empty string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return f"a section with the keys {', '.join(map(str, value))}"
    return f"{value!r} (a {type(value).__name__})"


# --------------------------------------------------------------------------------------------
# Rendering without secrets.
# --------------------------------------------------------------------------------------------


def _plain(instance: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in attrs.fields(type(instance)):
        value = getattr(instance, field.name)
        if attrs.has(type(value)):
            out[field.name] = _plain(value)
        elif field.metadata.get("secret"):
            out[field.name] = _REDACTED
        elif field.metadata.get("url"):
            out[field.name] = _hide_password(value)
        elif isinstance(value, Path):
            out[field.name] = str(value)
        elif isinstance(value, enum.Enum):
            out[field.name] = value.value
        elif isinstance(value, tuple):
            out[field.name] = list(value)
        else:
            out[field.name] = value
    return out


def _hide_password(url: str) -> str:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return _REDACTED  # unparsable: it may still hold a password, so show nothing
    if password is None:
        return url
    userinfo, _at, hostport = parts.netloc.rpartition("@")
    username = userinfo.partition(":")[0]
    return parts._replace(netloc=f"{username}:***@{hostport}").geturl()
