"""Questions asked by ``attune inquiry respond`` come from the response schema."""

from __future__ import annotations

import click
from click.testing import CliRunner

from attune_cli.commands.inquiries import ask, schema_fields


def test_flat_and_json_schema_fields() -> None:
    flat = {"approved": {"type": "boolean", "required": True}, "note": {"type": "string"}}
    assert schema_fields(flat) == [
        ("approved", {"type": "boolean", "required": True}, True),
        ("note", {"type": "string"}, False),
    ]
    json_schema = {
        "type": "object",
        "properties": {"level": {"type": "string", "enum": ["low", "high"]}},
        "required": ["level"],
    }
    assert schema_fields(json_schema) == [
        ("level", {"type": "string", "enum": ["low", "high"]}, True)
    ]
    assert schema_fields(None) == []


def test_answers_are_typed_by_the_schema() -> None:
    fields = {
        "approved": {"type": "boolean"},
        "count": {"type": "integer"},
        "level": {"enum": ["low", "high"], "description": "How urgent?"},
        "tags": {"type": "array"},
        "note": {"type": "string"},
    }

    @click.command()
    def answer() -> None:
        click.echo(repr({name: ask(name, spec, False) for name, spec in fields.items()}))

    result = CliRunner().invoke(answer, input='y\n3\nhigh\n["a"]\nshipped\n')
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == repr(
        {"approved": True, "count": 3, "level": "high", "tags": ["a"], "note": "shipped"}
    )
    assert "How urgent? (low, high)" in result.stderr
