"""The message envelope and the routing vocabulary of api-contract.md "Message bus".

Rule: these names are the wire contract shared with the RabbitMQ adapter and with other
implementations of the original system; never rename one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

__all__ = [
    "EXCHANGE_DEAD_LETTERS",
    "EXCHANGE_EVENTS",
    "EXCHANGE_EXECUTIONS",
    "EXCHANGE_NOTIFICATIONS",
    "Envelope",
    "RoutingKey",
    "exchange_for",
    "routing_key_matches",
    "worker_dispatch_key",
]

EXCHANGE_EVENTS = "attune.events"
EXCHANGE_EXECUTIONS = "attune.executions"
EXCHANGE_NOTIFICATIONS = "attune.notifications"
EXCHANGE_DEAD_LETTERS = "attune.dlx"

ENVELOPE_VERSION = "1.0"


class RoutingKey:
    """The routing keys of the contract."""

    EVENT_CREATED = "event.created"
    ENFORCEMENT_CREATED = "enforcement.created"
    EXECUTION_REQUESTED = "execution.requested"
    EXECUTION_STATUS_CHANGED = "execution.status.changed"
    EXECUTION_COMPLETED = "execution.completed"
    EXECUTION_CANCEL = "execution.cancel"
    INQUIRY_CREATED = "inquiry.created"
    INQUIRY_RESPONDED = "inquiry.responded"
    NOTIFICATION_CREATED = "notification.created"
    RULE_CREATED = "rule.created"
    RULE_ENABLED = "rule.enabled"
    RULE_DISABLED = "rule.disabled"
    PACK_REGISTERED = "pack.registered"


def worker_dispatch_key(worker_id: int) -> str:
    """Routing key of the executions dispatched to one worker."""
    return f"execution.dispatch.worker.{worker_id}"


def exchange_for(routing_key: str) -> str:
    """The exchange a routing key is published to."""
    if routing_key.startswith(("execution.", "inquiry.")):
        return EXCHANGE_EXECUTIONS
    if routing_key.startswith("notification."):
        return EXCHANGE_NOTIFICATIONS
    return EXCHANGE_EVENTS


def routing_key_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: ``*`` is one word, ``#`` is zero or more words."""
    return _match(pattern.split("."), key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head in ("*", words[0])) and _match(rest, words[1:])


@attrs.frozen(kw_only=True)
class Envelope:
    """One message: ``{message_id, correlation_id, message_type, version, timestamp, headers,
    payload}``, ``message_type`` being the routing key."""

    message_type: str
    payload: Mapping[str, Any]
    message_id: str = attrs.field(factory=lambda: str(uuid.uuid4()))
    correlation_id: str | None = None
    version: str = ENVELOPE_VERSION
    timestamp: datetime = attrs.field(factory=lambda: datetime.now(UTC))
    headers: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def retry_count(self) -> int:
        """How many times this message was handed out before (0 on first delivery)."""
        return int(self.headers.get("retry_count", 0))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form sent over the wire."""
        return {
            "message_id": self.message_id,
            "correlation_id": self.correlation_id,
            "message_type": self.message_type,
            "version": self.version,
            "timestamp": self.timestamp.isoformat(),
            "headers": {
                "retry_count": self.retry_count,
                "source_service": self.headers.get("source_service"),
                "trace_id": self.headers.get("trace_id"),
                **{
                    k: v
                    for k, v in self.headers.items()
                    if k not in ("retry_count", "source_service", "trace_id")
                },
            },
            "payload": dict(self.payload),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Envelope:
        """Parse the wire form; raises ``KeyError``/``ValueError`` on a malformed message."""
        timestamp = datetime.fromisoformat(str(data["timestamp"]).replace("Z", "+00:00"))
        return cls(
            message_type=str(data["message_type"]),
            payload=dict(data["payload"]),
            message_id=str(data["message_id"]),
            correlation_id=data.get("correlation_id"),
            version=str(data.get("version", ENVELOPE_VERSION)),
            timestamp=timestamp,
            headers=dict(data.get("headers") or {}),
        )

    def redelivered(self) -> Envelope:
        """This message as handed out once more (``retry_count`` + 1)."""
        return attrs.evolve(self, headers={**self.headers, "retry_count": self.retry_count + 1})
