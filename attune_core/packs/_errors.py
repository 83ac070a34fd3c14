"""The error of a rejected pack: every problem of the pack at once.

Rule: loading and registering collect :class:`~attune_core.errors.PackError` values (each with
file, line and reason) instead of raising the first one, so an author fixes a pack in one pass.
At the end, one :class:`PackLoadError` carries them all.
"""

from __future__ import annotations

from collections.abc import Sequence

from attune_core.errors import PackError
from attune_core.packs._spec import PackWarning

__all__ = ["PackLoadError"]


class PackLoadError(PackError):
    """A pack was rejected. ``errors`` lists every problem, each naming its file and line.

    Attributes:
        errors: The problems, in file order (pack.yaml first, then each directory).
        warnings: Harmless findings gathered before the pack was rejected.
        pack_path: The pack directory.
    """

    def __init__(
        self,
        pack_path: str,
        errors: Sequence[PackError],
        warnings: Sequence[PackWarning] = (),
    ) -> None:
        self.errors: tuple[PackError, ...] = tuple(errors)
        self.warnings: tuple[PackWarning, ...] = tuple(warnings)
        self.pack_path = pack_path
        count = len(self.errors)
        noun = "problem" if count == 1 else "problems"
        lines = [f"pack at {pack_path} is invalid ({count} {noun}):"]
        lines.extend(f"  {e}" for e in self.errors)
        first = self.errors[0] if self.errors else None
        super().__init__(
            "\n".join(lines),
            path=first.path if first else pack_path,
            line=first.line if first else None,
            details=[{"path": e.path, "line": e.line, "message": e.reason} for e in self.errors],
        )
        # PackError prefixes the message with the first location; the list already names
        # every location, so keep the message as built.
        self.message = "\n".join(lines)
        self.args = (self.message,)
