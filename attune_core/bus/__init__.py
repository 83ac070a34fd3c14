"""Messaging: the envelope and routing vocabulary of the contract, and the in-memory Bus."""

from attune_core.bus._envelope import (
    EXCHANGE_DEAD_LETTERS,
    EXCHANGE_EVENTS,
    EXCHANGE_EXECUTIONS,
    EXCHANGE_NOTIFICATIONS,
    Envelope,
    RoutingKey,
    exchange_for,
    routing_key_matches,
    worker_dispatch_key,
)
from attune_core.bus._memory import InMemoryBus

__all__ = [
    "EXCHANGE_DEAD_LETTERS",
    "EXCHANGE_EVENTS",
    "EXCHANGE_EXECUTIONS",
    "EXCHANGE_NOTIFICATIONS",
    "Envelope",
    "InMemoryBus",
    "RoutingKey",
    "exchange_for",
    "routing_key_matches",
    "worker_dispatch_key",
]
