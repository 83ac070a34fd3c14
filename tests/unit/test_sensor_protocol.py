"""The sensor protocol's pure parts: event lines, line splitting, config, trigger instances."""

from __future__ import annotations

import anyio
import pytest

from attune_core.engine._sensors import (
    MAX_EVENT_LINE,
    SensorLineError,
    _lines,
    parse_event_line,
    sensor_config,
    trigger_instance,
)
from attune_core.model import Rule, Sensor

TRIGGERS = ["pack.ping"]


def test_an_event_line_gives_trigger_payload_and_pin() -> None:
    assert parse_event_line('{"trigger": "pack.ping"}', TRIGGERS) == ("pack.ping", {}, None)
    assert parse_event_line(
        '{"trigger": "pack.ping", "payload": {"a": 1}, "rule": 7}', TRIGGERS
    ) == ("pack.ping", {"a": 1}, 7)
    assert parse_event_line(
        '{"trigger": "pack.ping", "payload": null, "trigger_instance_id": "rule_9"}', TRIGGERS
    ) == ("pack.ping", {}, 9)
    # A sensor that declares no trigger_types may emit any trigger (the engine checks it).
    assert parse_event_line('{"trigger": "other.t"}', []) == ("other.t", {}, None)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("nope", "not JSON"),
        ("[1]", "an event is a JSON object, got list"),
        ('{"payload": {}}', '"trigger" must be a trigger ref'),
        ('{"trigger": 3}', '"trigger" must be a trigger ref'),
        ('{"trigger": "x.y"}', "'x.y' is not one of this sensor's trigger_types (pack.ping)"),
        ('{"trigger": "pack.ping", "payload": [1]}', '"payload" must be a JSON object, got list'),
        ('{"trigger": "pack.ping", "rule": true}', '"rule" must be a rule id'),
        ('{"trigger": "pack.ping", "rule": "7"}', '"rule" must be a rule id'),
        ('{"trigger": "pack.ping", "trigger_instance_id": "r7"}', "must be 'rule_<id>'"),
    ],
)
def test_a_bad_line_says_why(line: str, reason: str) -> None:
    with pytest.raises(SensorLineError) as caught:
        parse_event_line(line, TRIGGERS)
    assert reason in str(caught.value)


async def _split(chunks: list[bytes]) -> list[bytes]:
    send, receive = anyio.create_memory_object_stream[bytes](len(chunks) + 1)
    with send, receive:
        for chunk in chunks:
            send.send_nowait(chunk)
        send.close()
        return [line async for line in _lines(receive)]  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_lines_are_split_across_chunks_and_runaway_lines_are_cut() -> None:
    assert await _split([b"a\nb", b"c\n", b"\nd"]) == [b"a", b"bc", b"", b"d"]
    huge = b"x" * (MAX_EVENT_LINE + 10)
    lines = await _split([huge[:1000], huge[1000:], b"tail\nnext\n"])
    assert len(lines) == 2
    assert len(lines[0]) > MAX_EVENT_LINE  # handed over once, so the reader can reject it
    assert lines[1] == b"next"  # the rest of the runaway line ("...tail") is dropped


def test_config_is_parameter_defaults_overridden_by_config() -> None:
    sensor = Sensor(
        ref="pack.s",
        label="s",
        entrypoint="s.py",
        param_schema={"a": {"type": "integer", "default": 1}, "b": {"type": "string"}},
        config={"b": "x"},
    )
    assert sensor_config(sensor) == {"a": 1, "b": "x"}


def test_a_trigger_instance_is_the_rule_as_the_sensor_sees_it() -> None:
    rule = Rule(
        id=4,
        ref="pack.r",
        pack_ref="pack",
        label="r",
        action_ref="core.noop",
        trigger_ref="pack.ping",
        trigger_params={"every": 5},
    )
    assert trigger_instance(rule) == {
        "rule_id": 4,
        "rule_ref": "pack.r",
        "trigger_ref": "pack.ping",
        "trigger_params": {"every": 5},
    }
