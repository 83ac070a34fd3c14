"""Enumerations of the data model, with the exact wire strings of api-contract.md.

Rule: every value here is part of the public contract (REST payloads, bus messages, database
enum types). Never rename a value; add new ones at the end.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ArtifactType",
    "EnforcementCondition",
    "EnforcementStatus",
    "ExecutionStatus",
    "HistoryOperation",
    "InquiryStatus",
    "NotificationState",
    "OutputFormat",
    "OwnerType",
    "PackEnvironmentStatus",
    "ParameterDelivery",
    "ParameterFormat",
    "PolicyMethod",
    "RetentionPolicy",
    "WorkerRole",
    "WorkerStatus",
    "WorkerType",
]


class ExecutionStatus(StrEnum):
    REQUESTED = "requested"
    SCHEDULING = "scheduling"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELING = "canceling"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    ABANDONED = "abandoned"

    @property
    def is_terminal(self) -> bool:
        """True once the execution can no longer change status."""
        return self in _TERMINAL_EXECUTION


_TERMINAL_EXECUTION = frozenset(
    {
        ExecutionStatus.COMPLETED,
        ExecutionStatus.FAILED,
        ExecutionStatus.CANCELLED,
        ExecutionStatus.TIMEOUT,
        ExecutionStatus.ABANDONED,
    }
)


class EnforcementStatus(StrEnum):
    CREATED = "created"
    PROCESSED = "processed"
    DISABLED = "disabled"


class EnforcementCondition(StrEnum):
    ALL = "all"
    ANY = "any"


class InquiryStatus(StrEnum):
    PENDING = "pending"
    RESPONDED = "responded"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


class OwnerType(StrEnum):
    SYSTEM = "system"
    IDENTITY = "identity"
    PACK = "pack"
    ACTION = "action"
    SENSOR = "sensor"


class ArtifactType(StrEnum):
    FILE_BINARY = "file_binary"
    FILE_DATATABLE = "file_datatable"
    FILE_IMAGE = "file_image"
    FILE_TEXT = "file_text"
    OTHER = "other"
    PROGRESS = "progress"
    URL = "url"


class RetentionPolicy(StrEnum):
    VERSIONS = "versions"
    DAYS = "days"
    HOURS = "hours"
    MINUTES = "minutes"


class WorkerType(StrEnum):
    LOCAL = "local"
    REMOTE = "remote"
    CONTAINER = "container"


class WorkerRole(StrEnum):
    ACTION = "action"
    SENSOR = "sensor"
    HYBRID = "hybrid"


class WorkerStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    BUSY = "busy"
    ERROR = "error"


class PolicyMethod(StrEnum):
    CANCEL = "cancel"
    ENQUEUE = "enqueue"


class PackEnvironmentStatus(StrEnum):
    PENDING = "pending"
    INSTALLING = "installing"
    READY = "ready"
    FAILED = "failed"
    OUTDATED = "outdated"


class NotificationState(StrEnum):
    CREATED = "created"
    QUEUED = "queued"
    PROCESSING = "processing"
    ERROR = "error"


class ParameterDelivery(StrEnum):
    STDIN = "stdin"
    FILE = "file"


class ParameterFormat(StrEnum):
    JSON = "json"
    DOTENV = "dotenv"
    YAML = "yaml"


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    YAML = "yaml"
    JSONL = "jsonl"


class HistoryOperation(StrEnum):
    INSERT = "INSERT"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
