"""The REST API (Quart on Hypercorn): :func:`create_app` and its :class:`ApiContext`."""

from attune_services.api._app import create_app
from attune_services.api._context import ApiContext

__all__ = ["ApiContext", "create_app"]
