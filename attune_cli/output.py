"""Rendering: data on stdout (a rich table, JSON or YAML), status and errors on stderr.

Rules of this file:

1. Data goes to stdout and nothing else does: status lines, progress and errors go to stderr,
   so ``attune -j ... | jq`` always sees one JSON document.
2. ``-o json|yaml`` prints the API's objects unchanged (the whole object, not the table's
   columns); ``-o table`` picks columns and shortens nested values and timestamps.
3. Tables use the terminal's width (rich); when stdout is not a terminal they use
   ``$COLUMNS`` or 120 columns.
4. Errors follow the output format too: with ``-o json|yaml`` an error is the document
   ``{"error", "code", ...}`` on stderr; with tables it is one line ``error: <message>``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import click
import yaml
from rich import box
from rich.console import Console
from rich.table import Table

__all__ = ["FORMATS", "Column", "Output", "dump", "short"]

FORMATS = ("table", "json", "yaml")
_ISO = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$")
MAX_CELL = 60  # characters of a nested value shown in a table cell before "..."

Column = tuple[str, str | Callable[[Mapping[str, Any]], Any]]


def short(value: Any, limit: int = MAX_CELL) -> str:
    """A value as one table cell: timestamps shortened, nested values as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        match = _ISO.match(value)
        if match:
            return f"{match.group(1)} {match.group(2)}"
        text = value
    elif isinstance(value, dict | list):
        text = json.dumps(value, separators=(",", ":"), default=str)
    else:
        text = str(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Dumper(yaml.SafeDumper):
    """YAML with multi-line strings (logs, stdout) as readable ``|`` blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value.strip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(data: Any, fmt: str) -> str:
    """``data`` as JSON (indented) or YAML text."""
    if fmt == "yaml":
        text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
        return text.rstrip("\n")
    return json.dumps(data, indent=2, default=str, ensure_ascii=False)


def _width() -> int | None:
    stream = sys.stdout
    if stream.isatty():
        return None
    try:
        return int(os.environ.get("COLUMNS", "")) or 120
    except ValueError:
        return 120


class Output:
    """Writes data and messages in the chosen format.

    Args:
        fmt: ``table``, ``json`` or ``yaml``.
        quiet: Suppress status messages on stderr.
    """

    def __init__(self, fmt: str = "table", *, quiet: bool = False) -> None:
        self.fmt = fmt
        self.quiet = quiet

    @property
    def structured(self) -> bool:
        """True for ``json``/``yaml`` output."""
        return self.fmt != "table"

    def _console(self) -> Console:
        return Console(file=sys.stdout, width=_width(), soft_wrap=False)

    # -- data -------------------------------------------------------------------------------

    def raw(self, data: Any) -> None:
        """Print ``data`` as JSON/YAML whatever the format (table falls back to YAML)."""
        click.echo(dump(data, "yaml" if self.fmt == "table" else self.fmt))

    def text(self, text: str) -> None:
        """Print plain text on stdout (log contents, a key's value)."""
        click.echo(text, nl=not text.endswith("\n"))

    def items(
        self,
        items: Sequence[Mapping[str, Any]],
        columns: Sequence[Column],
        *,
        pagination: Mapping[str, Any] | None = None,
        empty: str = "nothing found",
    ) -> None:
        """Print a list: a table with ``columns``, or the items as JSON/YAML.

        Args:
            items: The objects.
            columns: ``(header, key or function of the item)`` pairs for the table.
            pagination: The API's pagination; with tables a "page x of y" line goes to stderr.
            empty: What to say on stderr when there are no items (tables only).
        """
        if self.structured:
            click.echo(dump(list(items), self.fmt))
            return
        if not items:
            self.status(empty)
            return
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        for header, _ in columns:
            table.add_column(header, overflow="ellipsis", no_wrap=header in ("ID", "REF"))
        for item in items:
            table.add_row(*(short(_cell(item, getter)) for _, getter in columns))
        self._console().print(table)
        if pagination:
            self._page_note(pagination, len(items))

    def _page_note(self, pagination: Mapping[str, Any], count: int) -> None:
        page = pagination.get("page") or 1
        total = pagination.get("total_items")
        pages = pagination.get("total_pages")
        if pagination.get("has_next") or page > 1:
            of = f" of {pages}" if pages else ""
            items = f", {total} items" if total is not None else ""
            more = f"; next: --page {page + 1}" if pagination.get("has_next") else ""
            self.status(f"page {page}{of} ({count} shown{items}){more}")

    def item(self, data: Any, *, fields: Iterable[str] | None = None) -> None:
        """Print one object: a two-column table of its fields, or JSON/YAML."""
        if self.structured or not isinstance(data, Mapping):
            if self.structured:
                click.echo(dump(data, self.fmt))
            else:
                self.raw(data)
            return
        table = Table(box=box.SIMPLE, show_header=False, pad_edge=False, show_edge=False)
        table.add_column("field", style="bold", no_wrap=True)
        table.add_column("value", overflow="fold")
        keys = list(fields) if fields is not None else list(data)
        for key in keys:
            value = data.get(key)
            if isinstance(value, dict | list) and value:
                text = dump(value, "yaml")
            else:
                text = short(value, limit=10_000)
            table.add_row(key, text)
        self._console().print(table)

    def done(self, message: str, data: Any = None) -> None:
        """Report a completed change: the message on stderr, and the object when structured."""
        if self.structured and data is not None:
            click.echo(dump(data, self.fmt))
        self.status(message)

    # -- stderr -----------------------------------------------------------------------------

    def status(self, message: str) -> None:
        """A status line on stderr."""
        if not self.quiet:
            click.echo(message, err=True)

    def error(self, payload: Mapping[str, Any]) -> None:
        """An error on stderr, in the output format."""
        if self.structured:
            click.echo(dump(dict(payload), self.fmt), err=True)
        else:
            click.echo(f"error: {payload.get('error')}", err=True)


def _cell(item: Mapping[str, Any], getter: str | Callable[[Mapping[str, Any]], Any]) -> Any:
    if callable(getter):
        return getter(item)
    value: Any = item
    for part in getter.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def stderr_is_tty() -> bool:
    """Whether stderr is an interactive terminal (live status lines are redrawn there)."""
    return sys.stderr.isatty()
