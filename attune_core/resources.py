"""Locate the non-Python payload shipped with Attune: the core pack, the migrations and the web UI.

In a wheel they are force-included under ``attune_core/_data`` (see pyproject.toml). In a source
checkout (editable install) they sit at the repository root next to the package.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

__all__ = ["data_dir", "migrations_dir", "packs_dir", "web_dir"]


@functools.cache
def data_dir(name: str) -> Path:
    """Return the directory of the shipped payload ``name`` (``packs`` or ``migrations``)."""
    shipped = Path(str(resources.files("attune_core") / "_data" / name))
    if shipped.is_dir():
        return shipped
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"Attune's {name!r} directory is missing from this installation")


def packs_dir() -> Path:
    """Directory holding the packs shipped with Attune (``core`` among them)."""
    return data_dir("packs")


def migrations_dir() -> Path:
    """Directory of the Alembic environment (``env.py`` and ``versions/``)."""
    return data_dir("migrations")


def web_dir() -> Path | None:
    """Directory of the built web UI (``index.html`` and ``assets/``), or None when it was not
    built (``make web`` builds ``web/dist`` in a checkout; a wheel ships it)."""
    shipped = Path(str(resources.files("attune_core") / "_data" / "web"))
    checkout = Path(__file__).resolve().parent.parent / "web" / "dist"
    for candidate in (shipped, checkout):
        if (candidate / "index.html").is_file():
            return candidate
    return None
