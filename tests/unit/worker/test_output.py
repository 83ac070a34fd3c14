"""Output capture, output parsing and the result shapes (api-contract.md)."""

from __future__ import annotations

import pytest

from attune_core.engine.worker._output import (
    LiveText,
    OutputCapture,
    failure_error,
    failure_result,
    mask_text,
    mask_value,
    parse_output,
    secret_needles,
    secret_parameter_values,
    success_result,
)
from attune_core.model import OutputFormat


def test_capture_keeps_the_cap_and_counts_the_rest() -> None:
    capture = OutputCapture("stdout", 10)
    for chunk in (b"12345", b"67890abc", b"def"):
        capture.feed(chunk)
    assert capture.kept_bytes == b"1234567890"
    assert capture.total == 16
    assert capture.truncated
    assert capture.text() == (
        "1234567890\n[attune: stdout truncated at 10 bytes, 6 more bytes not kept]\n"
    )


def test_capture_exactly_at_the_cap_is_not_truncated() -> None:
    capture = OutputCapture("stderr", 4)
    capture.feed(b"abcd")
    assert not capture.truncated
    assert capture.text() == "abcd"


def test_binary_output_is_decoded_with_replacement() -> None:
    capture = OutputCapture("stdout", 100)
    capture.feed(b"ok \xff\xfe\x00 \xe2\x82")
    assert capture.text() == "ok \ufffd\ufffd\x00 \ufffd"


@pytest.mark.parametrize(
    ("fmt", "stdout", "data"),
    [
        (OutputFormat.JSON, '{"a": 1}\n', {"a": 1}),
        (OutputFormat.JSON, "[1, 2]", [1, 2]),
        (OutputFormat.JSON, 'log line\nanother\n{"result": true}\n', {"result": True}),
        (OutputFormat.YAML, "a: 1\nb: [x, y]\n", {"a": 1, "b": ["x", "y"]}),
        (OutputFormat.JSONL, '{"n": 1}\n\n{"n": 2}\n', [{"n": 1}, {"n": 2}]),
    ],
)
def test_declared_output_is_parsed(fmt: OutputFormat, stdout: str, data: object) -> None:
    assert parse_output(stdout, fmt) == (True, data, None)


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_empty_output_has_no_data_and_no_error(fmt: OutputFormat) -> None:
    assert parse_output("  \n", fmt) == (False, None, None)


def test_text_output_is_not_parsed() -> None:
    assert parse_output('{"a": 1}', OutputFormat.TEXT) == (False, None, None)


@pytest.mark.parametrize(
    ("fmt", "stdout", "message"),
    [
        (OutputFormat.JSON, "not json\nstill not", "stdout is not valid JSON"),
        (OutputFormat.JSONL, '{"ok": 1}\n{broken\n', "stdout line 2 is not valid JSON"),
        (OutputFormat.YAML, "a: [unclosed\n", "stdout is not valid YAML"),
    ],
)
def test_parse_failure_is_reported_not_raised(fmt: OutputFormat, stdout: str, message: str) -> None:
    has_data, data, error = parse_output(stdout, fmt)
    assert (has_data, data) == (False, None)
    assert error is not None
    assert error.startswith(message)


def test_truncated_output_is_not_parsed() -> None:
    has_data, _, error = parse_output('{"a": ', OutputFormat.JSON, truncated=True)
    assert not has_data
    assert error == "stdout exceeded its size limit; json output not parsed"


def test_failure_error_is_the_last_stderr_line() -> None:
    assert failure_error(2, "warning: x\nerror: the real reason  \n\n") == "error: the real reason"


def test_failure_error_without_stderr_names_the_exit_code() -> None:
    assert failure_error(3, "") == "Command exited with code 3"
    assert failure_error(-9, " \n") == "Command was killed by SIGKILL (exit code -9)"


def test_failure_error_is_bounded() -> None:
    assert len(failure_error(1, "x" * 100_000)) == 2000


def test_success_shape() -> None:
    assert success_result(
        duration_ms=5,
        stdout="hi\n",
        stdout_truncated=False,
        has_data=False,
        data=None,
        parse_error=None,
        stderr_log=None,
    ) == {"exit_code": 0, "duration_ms": 5, "succeeded": True, "stdout": "hi\n"}


def test_success_shape_with_every_optional_key() -> None:
    result = success_result(
        duration_ms=5,
        stdout="x",
        stdout_truncated=True,
        has_data=True,
        data=None,
        parse_error=None,
        stderr_log="/logs/stderr.log",
    )
    assert result == {
        "exit_code": 0,
        "duration_ms": 5,
        "succeeded": True,
        "stdout": "x",
        "stdout_truncated": True,
        "stderr_log": "/logs/stderr.log",
        "data": None,
    }


def test_failure_shape() -> None:
    assert failure_result(exit_code=1, duration_ms=7, error="boom") == {
        "succeeded": False,
        "exit_code": 1,
        "duration_ms": 7,
        "error": "boom",
    }
    assert failure_result(
        exit_code=1, duration_ms=7, error="boom", stdout="partial", stdout_truncated=True
    ) == {
        "succeeded": False,
        "exit_code": 1,
        "duration_ms": 7,
        "error": "boom",
        "stdout": "partial",
        "stdout_truncated": True,
    }


def test_secret_needles_cover_nested_values_json_escapes_and_skip_short_ones() -> None:
    needles = secret_needles(['pa"ss-word', {"user": "ada", "pw": "longer-secret"}, 123456, True])
    assert needles[0] == "longer-secret"  # longest first
    assert set(needles) == {"longer-secret", 'pa"ss-word', 'pa\\"ss-word', "123456"}


def test_mask_value_masks_strings_keys_and_numbers_everywhere() -> None:
    needles = secret_needles(["s3cr3t-value", 987654])
    value = {"a": ["x s3cr3t-value y", 987654, 987], "s3cr3t-value": True, "n": None}
    assert mask_value(value, needles) == {
        "a": ["x ******** y", "********", 987],
        "********": True,
        "n": None,
    }
    assert mask_text("no secrets here", needles) == "no secrets here"
    assert mask_value(value, ()) is value


def test_secret_parameter_values_follow_the_schema() -> None:
    schema = {
        "token": {"type": "string", "secret": True},
        "db": {"type": "object", "properties": {"pw": {"type": "string", "secret": True}}},
        "name": {"type": "string"},
    }
    values = {"token": "t0ken", "db": {"pw": "p4ss", "host": "h"}, "name": "n"}
    assert secret_parameter_values(schema, values) == ["t0ken", "p4ss"]
    assert secret_parameter_values(None, values) == []


# -- output handed out while the process runs ---------------------------------------------------


def _live(needles: tuple[str, ...], *feeds: bytes) -> tuple[list[str], LiveText]:
    """Feed ``feeds`` one at a time, taking after each; the pieces handed out."""
    capture = OutputCapture("stdout", 1000)
    live = LiveText(capture, needles)
    pieces = []
    for feed in feeds:
        capture.feed(feed)
        chunk = live.take()
        if chunk is not None:
            pieces.append(chunk.content)
    return pieces, live


def test_live_text_hands_out_what_arrived_since_the_last_take() -> None:
    pieces, live = _live((), b"one\n", b"", b"two\nthr", b"ee\n")
    assert pieces == ["one\n", "two\nthr", "ee\n"]
    assert live.position == len("one\ntwo\nthree\n")


def test_a_secret_split_across_reads_is_never_handed_out_in_part() -> None:
    needles = secret_needles(["hunter2-secret"])
    pieces, _ = _live(needles, b"password: hunt", b"er2-sec", b"ret and more\n")
    assert "".join(pieces) == "password: ******** and more\n"
    assert all("hunt" not in piece for piece in pieces)
    # the text before the secret's possible start is not held back
    assert pieces[0] == "password: "


def test_a_tail_that_cannot_begin_a_secret_is_not_held_back() -> None:
    needles = secret_needles(["hunter2-secret"])
    pieces, _ = _live(needles, b"hello hunter2-secret\n")
    assert pieces == ["hello ********\n"]
    pieces, _ = _live(needles, b"hello h")
    assert pieces == ["hello "]


def test_a_utf8_character_split_across_reads_is_handed_out_whole() -> None:
    encoded = "é€\n".encode()
    pieces, _ = _live((), encoded[:1], encoded[1:3], encoded[3:])
    assert "".join(pieces) == "é€\n"
    assert "\ufffd" not in "".join(pieces)


def test_live_text_stops_at_the_cap() -> None:
    capture = OutputCapture("stderr", 5)
    live = LiveText(capture, ())
    capture.feed(b"0123456789")
    chunk = live.take()
    assert chunk is not None
    assert (chunk.stream, chunk.position, chunk.content) == ("stderr", 0, "01234")
    capture.feed(b"more")
    assert live.take() is None
