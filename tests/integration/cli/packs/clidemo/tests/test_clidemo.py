"""A pack test the server runs for `attune pack test clidemo`."""

from pathlib import Path


def test_the_greet_script_is_there():
    assert (Path(__file__).parent.parent / "actions" / "greet.sh").is_file()
