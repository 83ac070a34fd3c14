"""What every API command shares: global options, the profile, the client, error reporting.

Rules of this file:

1. Global options (``--api-url``, ``--profile``, ``-o/-j/-y``, ``-v``) are read once into
   ``ctx.meta`` (shared by every context of one invocation); ``-o/-j/-y`` are accepted both
   before and after the command (``attune -j pack list`` and ``attune pack list -j``).
2. Precedence: option > environment variable > profile > built-in default. The API URL's
   environment variable is ``ATTUNE_API_URL``, the profile's ``ATTUNE_PROFILE``; a token in
   ``ATTUNE_API_TOKEN`` (what actions receive) replaces the stored login.
3. Commands get an :class:`App` with :func:`pass_app`; the HTTP client is built on first use,
   so ``attune config ...`` works with no server and no login.
4. Errors reach the user through :func:`report_error` only: one line (or one JSON/YAML error
   document with ``-o json|yaml``) on stderr and the error's exit code.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import click

from attune_cli.client import EXIT_FAILED, EXIT_USAGE, ApiClient, ApiError
from attune_cli.output import FORMATS, Output
from attune_cli.profiles import Profile, ProfileStore, Tokens
from attune_core.errors import AttuneError, ConfigError

__all__ = [
    "ApiCommand",
    "ApiGroup",
    "App",
    "global_options",
    "parse_assignments",
    "pass_app",
    "report_error",
]

F = TypeVar("F", bound=Callable[..., Any])
_META = "attune.options"


def _set_output(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Callback of ``-o/-j/-y``: the last one given wins, wherever it was given."""
    if value:
        options = ctx.meta.setdefault(_META, {})
        options["output"] = value if param.name == "output" else param.name
    return value


def _output_options(*, root: bool = False) -> list[click.Option]:
    return [
        click.Option(
            ["-o", "--output"],
            type=click.Choice(FORMATS),
            envvar="ATTUNE_OUTPUT" if root else None,
            show_envvar=root,
            expose_value=False,
            callback=_set_output,
            help="Output format (default: the profile's, else table).",
        ),
        click.Option(
            ["-j", "json"],
            is_flag=True,
            expose_value=False,
            callback=_set_output,
            help="Same as -o json.",
        ),
        click.Option(
            ["-y", "yaml"],
            is_flag=True,
            expose_value=False,
            callback=_set_output,
            help="Same as -o yaml.",
        ),
    ]


class ApiCommand(click.Command):
    """A command that also accepts ``-o/-j/-y`` after its name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_output_options())


class ApiGroup(click.Group):
    """A group whose commands (and subgroups) are :class:`ApiCommand` s."""

    command_class = ApiCommand
    group_class = type


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and value is not False:
        ctx.meta.setdefault(_META, {})[param.name or ""] = value
    return value


def global_options(f: F) -> F:
    """Decorate the root group with the global options."""
    options = [
        click.option(
            "--api-url",
            envvar="ATTUNE_API_URL",
            show_envvar=True,
            expose_value=False,
            callback=_remember,
            help="API base URL (default: the profile's, else http://127.0.0.1:8080).",
        ),
        click.option(
            "--profile",
            envvar="ATTUNE_PROFILE",
            show_envvar=True,
            expose_value=False,
            callback=_remember,
            help="Profile to use (default: the one chosen by 'attune config use').",
        ),
        click.option(
            "-v",
            "--verbose",
            is_flag=True,
            envvar="ATTUNE_VERBOSE",
            show_envvar=True,
            expose_value=False,
            callback=_remember,
            help="Show each HTTP request on stderr (and tracebacks of bugs).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    # click lists __click_params__ in reverse: inserted first, they are shown last.
    f.__click_params__[:0] = reversed(_output_options(root=True))  # type: ignore[attr-defined]
    return f


class App:
    """Per-invocation state: the profile, the output, and (lazily) the API client."""

    def __init__(self, ctx: click.Context) -> None:
        self.options: dict[str, Any] = dict(ctx.meta.get(_META, {}))
        self.store = ProfileStore()
        self.verbose = bool(self.options.get("verbose"))
        self._profile: Profile | None = None
        self._client: ApiClient | None = None
        ctx.call_on_close(self.close)

    @property
    def profile_name(self) -> str:
        """The profile in effect."""
        return str(self.options.get("profile") or self.store.current_name())

    @property
    def profile(self) -> Profile:
        """The profile in effect (read from ``cli.yaml``)."""
        if self._profile is None:
            self._profile = self.store.get(self.profile_name)
        return self._profile

    @property
    def api_url(self) -> str:
        """The API URL in effect."""
        return str(self.options.get("api_url") or self.profile.api_url).rstrip("/")

    @property
    def out(self) -> Output:
        """The output in the chosen format."""
        fmt = self.options.get("output")
        if fmt is None:
            try:
                fmt = self.profile.output
            except ConfigError:
                fmt = None
        return Output(fmt or "table")

    def tokens(self) -> Tokens | None:
        """The stored tokens for this profile and API URL."""
        return self.store.tokens(self.profile_name, self.api_url)

    def save_tokens(self, access: str, refresh: str | None, login: str | None = None) -> None:
        """Remember a new token pair for this profile."""
        old = self.tokens()
        self.store.save_tokens(
            self.profile_name,
            Tokens(
                api_url=self.api_url,
                access_token=access,
                refresh_token=refresh,
                login=login or (old.login if old else None),
            ),
        )

    @property
    def client(self) -> ApiClient:
        """The API client, with this profile's tokens (or ``$ATTUNE_API_TOKEN``)."""
        if self._client is None:
            self.profile  # noqa: B018  (an unknown --profile is a configuration error)
            env_token = os.environ.get("ATTUNE_API_TOKEN")
            tokens = None if env_token else self.tokens()
            self._client = ApiClient(
                self.api_url,
                access_token=env_token or (tokens.access_token if tokens else None),
                refresh_token=tokens.refresh_token if tokens else None,
                on_tokens=None if env_token else self.save_tokens,
                verbose=self.verbose,
            )
        return self._client

    def close(self) -> None:
        """Close the client's connections."""
        if self._client is not None:
            self._client.close()


def pass_app(f: F) -> F:
    """Give a command the :class:`App` of this invocation as its first argument."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        app = ctx.find_object(App)
        if app is None:
            app = App(ctx.find_root())
            ctx.find_root().obj = app
        return f(app, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def report_error(ctx: click.Context, exc: AttuneError) -> None:
    """Print ``exc`` in the output format on stderr and exit with its code."""
    options = ctx.meta.get(_META, {})
    fmt = options.get("output") or "table"
    if isinstance(exc, ApiError):
        payload, code = exc.to_dict(), exc.exit_code
    elif isinstance(exc, ConfigError):
        payload = {"error": f"configuration error: {exc}", "code": "CONFIG_ERROR"}
        code = EXIT_USAGE
        if fmt == "table":  # the line `attune db` has always printed
            click.echo(payload["error"], err=True)
            sys.exit(code)
    else:
        payload, code = {"error": str(exc), "code": exc.code}, EXIT_FAILED
    Output(fmt).error(payload)
    if options.get("verbose") and not isinstance(exc, ApiError | ConfigError):
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    sys.exit(code)


# -- parameters -------------------------------------------------------------------------------


def _schema_types(schema: Mapping[str, Any] | None) -> dict[str, str]:
    """``{param: type}`` of a flat parameter schema (or a JSON Schema object)."""
    if not isinstance(schema, Mapping):
        return {}
    properties = schema.get("properties") if "properties" in schema else schema
    types: dict[str, str] = {}
    if isinstance(properties, Mapping):
        for name, spec in properties.items():
            if isinstance(spec, Mapping) and isinstance(spec.get("type"), str):
                types[str(name)] = spec["type"]
    return types


def _coerce(name: str, text: str, kind: str | None) -> Any:
    if kind in ("integer", "number"):
        try:
            return int(text) if kind == "integer" else float(text)
        except ValueError as exc:
            raise click.BadParameter(f"{name}={text!r}: not a {kind}") from exc
    if kind == "boolean":
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        raise click.BadParameter(f"{name}={text!r}: not a boolean (true/false)")
    if kind in ("array", "object"):
        try:
            return json.loads(text)
        except ValueError:
            if kind == "array":
                return [part.strip() for part in text.split(",") if part.strip()]
            raise click.BadParameter(f"{name}={text!r}: not a JSON object") from None
    return text


def parse_assignments(
    assignments: Iterable[str],
    *,
    schema: Mapping[str, Any] | None = None,
    base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Turn ``k=v`` words into parameters.

    ``k=v`` is converted to the type the schema declares for ``k`` (integer, number,
    boolean, array (JSON or comma separated), object (JSON)); undeclared names stay strings.
    ``k:=<json>`` always parses the value as JSON.

    Args:
        assignments: The words.
        schema: The action's ``param_schema``.
        base: Parameters to start from (``--params-json``); words override them.

    Raises:
        click.BadParameter: A word is not ``k=v`` or a value does not fit its type.
    """
    types = _schema_types(schema)
    params: dict[str, Any] = dict(base or {})
    for word in assignments:
        if ":=" in word and word.index(":=") < word.index("=") + 1:
            name, _, text = word.partition(":=")
            try:
                params[name] = json.loads(text)
            except ValueError as exc:
                raise click.BadParameter(f"{word!r}: the value after := must be JSON") from exc
            continue
        name, sep, text = word.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{word!r}: parameters are written name=value")
        params[name] = _coerce(name, text, types.get(name))
    return params


def load_json_option(text: str | None, what: str) -> Any:
    """Parse a JSON option (``@file`` reads the file)."""
    if text is None:
        return None
    if text.startswith("@"):
        try:
            with open(text[1:]) as handle:
                text = handle.read()
        except OSError as exc:
            raise click.BadParameter(f"{what}: cannot read {text[1:]}: {exc}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"{what}: not valid JSON: {exc}") from exc


def paging(f: F) -> F:
    """Add ``--page`` and ``--limit`` to a list command."""
    f = click.option("--page", type=click.IntRange(min=1), default=1, help="Page number.")(f)
    return click.option(
        "--limit",
        "-n",
        type=click.IntRange(1, 500),
        default=50,
        help="Items per page (the API clamps it to 100, inquiries 500).",
    )(f)


def complete_refs(path: str, key: str = "ref") -> Callable[..., list[Any]]:
    """A click ``shell_complete`` callback offering the refs listed at ``path``.

    Completion must never fail loudly: without a server or a login it offers nothing.
    """

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        app = App(ctx.find_root())
        try:
            items = app.client.page(path, {"page_size": 100}).items
        except (AttuneError, OSError, ValueError):
            return []
        finally:
            app.close()  # completion contexts are never closed by click
        values = sorted(str(item.get(key)) for item in items if item.get(key) is not None)
        return [CompletionItem(v) for v in values if v.startswith(incomplete)]

    return complete
