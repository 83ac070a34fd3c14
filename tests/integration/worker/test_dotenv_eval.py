"""The dotenv parameter document is valid bash for ``eval``, whatever the key names."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from attune_core.engine.worker import shell_identifier
from attune_core.engine.worker._params import parameter_document
from attune_core.model import ParameterFormat


@pytest.mark.parametrize(
    "key",
    [
        "a.b",
        "slack.token",
        "$(touch PWNED)",
        "`touch PWNED`",
        "x;touch PWNED",
        "a b",
        "é-x",
        "x\ny",
    ],
)
def test_bash_eval_of_a_dotenv_document_is_safe_for_any_key(key: str, tmp_path: Path) -> None:
    """``eval "$(cat)"`` of the document: no error, no command run, the value readable."""
    document = parameter_document(
        {"message": "it's $(touch PWNED)"}, {key: "s'v"}, ParameterFormat.DOTENV
    )
    script = 'set -eu; eval "$(cat)"; printf "%s|%s" "$message" "${' + shell_identifier(key) + '}"'
    done = subprocess.run(
        ["bash", "-c", script], input=document, cwd=tmp_path, capture_output=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == "it's $(touch PWNED)|s'v"
    assert not (tmp_path / "PWNED").exists()
