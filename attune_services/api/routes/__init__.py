"""Routes by domain. Importing this package registers every route on :data:`api`."""

from attune_services.api.routes import (  # noqa: F401  (registration by import)
    actions,
    analytics,
    artifacts,
    auth,
    events,
    executions,
    health,
    identities,
    inquiries,
    keys,
    packs,
    rules,
    runtimes,
    triggers,
    workflows,
)
from attune_services.api.routes._registry import api

__all__ = ["api"]
