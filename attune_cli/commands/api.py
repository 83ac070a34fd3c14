"""The command groups that talk to the API (registered by :mod:`attune_cli.main`).

Rule: one module per group (or pair of related groups); this list is the one place that
says which exist. Importing :mod:`attune_cli.commands.identities` extends the ``identity``
group of :mod:`attune_cli.commands.identity` with its API commands.
"""

from __future__ import annotations

import click

from attune_cli.commands import identities as _identities  # noqa: F401  (extends `identity`)
from attune_cli.commands.actions import action, run
from attune_cli.commands.artifacts import artifact
from attune_cli.commands.auth import auth
from attune_cli.commands.config import config
from attune_cli.commands.events import enforcement, event
from attune_cli.commands.executions import execution
from attune_cli.commands.identities import permission
from attune_cli.commands.inquiries import inquiry
from attune_cli.commands.keys import key
from attune_cli.commands.packs import pack
from attune_cli.commands.rules import rule
from attune_cli.commands.triggers import sensor, trigger
from attune_cli.commands.workers import runtime, worker
from attune_cli.commands.workflows import workflow

API_GROUPS: list[click.Command] = [
    config,
    auth,
    pack,
    action,
    run,
    execution,
    rule,
    trigger,
    sensor,
    event,
    enforcement,
    key,
    inquiry,
    workflow,
    artifact,
    permission,
    worker,
    runtime,
]
