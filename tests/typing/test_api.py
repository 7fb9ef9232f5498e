"""tests/typing/api.py, real use of the primitives, passes `mypy --strict`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
API = Path(__file__).with_name("api.py")


def test_api_usage_type_checks_strictly():
    """mypy --strict (with the project's pydantic plugin) finds no error in api.py."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(API)],
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
