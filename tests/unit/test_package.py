import subprocess
import sys

import attune_core
from attune_core.resources import migrations_dir, packs_dir


def test_public_surface_is_pinned() -> None:
    assert sorted(attune_core.__all__) == [
        "Attune",
        "AttuneError",
        "BadRequest",
        "ConfigError",
        "Conflict",
        "NotFound",
        "PackError",
        "StorageError",
        "ValidationError",
        "__version__",
    ]


def test_payload_directories_are_found() -> None:
    assert (packs_dir() / "core" / "pack.yaml").is_file()
    assert (migrations_dir() / "env.py").is_file()


def test_python_m_attune_cli_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "attune_cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == f"attune, version {attune_core.__version__}"


def test_attune_facade_is_reachable_from_the_package() -> None:
    from attune_core.app import Attune

    assert attune_core.Attune is Attune
