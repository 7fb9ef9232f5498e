"""Fixtures for the CLI tests: a state directory, the installed CLI as a subprocess,
and the same app in-process (typer's CliRunner) for the many-input tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from agentic.cli import app

EXIT_CODES = {0, 1, 2}


def cli_command() -> list[str]:
    """The installed `agentic-cli` script next to this interpreter, else `-m agentic.cli`."""
    script = Path(sys.executable).parent / "agentic-cli"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "agentic.cli"]


@dataclass
class Outcome:
    """What one invocation did."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """Parse stdout as one JSON document."""
        return json.loads(self.stdout)


Run = Callable[..., Outcome]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh state directory."""
    return tmp_path / "state"


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["AGENTIC_HOME"] = str(home)
    env["COLUMNS"] = "120"
    env.pop("NO_COLOR", None)
    return env


@pytest.fixture
def sh(home: Path) -> Run:
    """Run the installed CLI as a subprocess with AGENTIC_HOME=home."""

    def run(*args: str, stdin: bytes | None = None, timeout: float = 60) -> Outcome:
        done = subprocess.run(
            [*cli_command(), *args],
            input=stdin,
            capture_output=True,
            env=_env(home),
            timeout=timeout,
            check=False,
        )
        return Outcome(
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )

    return run


_COMMAND = typer.main.get_command(app)  # built once: CliRunner.invoke rebuilds it each time


def invoke_in_process(
    home: Path | None, args: Sequence[str], stdin: bytes | None = None
) -> Outcome:
    """Run the app in this process (CliRunner's isolation) with AGENTIC_HOME=home.

    With `home` None, AGENTIC_HOME is unset. An exception that escapes the CLI's own
    handler is a bug, so it propagates.
    """
    import logging

    import structlog

    # The CLI configures logging for its process; give the test process its own back.
    root = logging.getLogger()
    saved, level, handlers = structlog.get_config(), root.level, list(root.handlers)
    runner = CliRunner()
    env = {"AGENTIC_HOME": str(home) if home is not None else None, "COLUMNS": "120"}
    with runner.isolation(input=stdin, env=env) as (out, err, _):
        try:
            _COMMAND.main(args=list(args), prog_name="agentic-cli")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            structlog.configure(**saved)
            root.setLevel(level)
            root.handlers[:] = handlers
        stdout, stderr = out.getvalue(), err.getvalue()
    return Outcome(code, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"))


@pytest.fixture
def cli(home: Path) -> Run:
    """Run the app in-process with AGENTIC_HOME=home."""

    def run(*args: str, stdin: bytes | None = None) -> Outcome:
        return invoke_in_process(home, args, stdin)

    return run


def assert_one_line_error(outcome: Outcome, *codes: int) -> None:
    """The invocation failed with one of `codes` and one `error:` line, no traceback."""
    assert outcome.code in (codes or (1, 2)), outcome
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("error: "), outcome.stderr
    assert "Traceback" not in outcome.stderr + outcome.stdout
