"""tests/typing/api.py and branches_api.py, real use of the public API, pass `mypy --strict`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
API = Path(__file__).with_name("api.py")
BRANCHES_API = Path(__file__).with_name("branches_api.py")


@pytest.mark.parametrize("fixture", [API, BRANCHES_API], ids=lambda p: p.name)
def test_api_usage_type_checks_strictly(fixture: Path) -> None:
    """mypy --strict (with the project's pydantic plugin) finds no error in the fixture."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(fixture)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,  # picks up pyproject.toml: the pydantic plugin, the cache
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_api_usage_runs():
    """The same file runs as a script: the types describe what really happens."""
    result = subprocess.run(
        [sys.executable, str(API)], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("completed")


def test_branches_api_usage_runs():
    """branches_api.py runs as a script against an offline Branch."""
    result = subprocess.run(
        [sys.executable, str(BRANCHES_API)], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["say hello / add: 5", "stream this", "5"]
