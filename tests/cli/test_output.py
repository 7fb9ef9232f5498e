"""Output on a terminal or pipe that cannot encode every character."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.cli.conftest import _env, cli_command

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _latin1(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = _env(home) | {"PYTHONIOENCODING": "latin-1"}
    env.pop("PYTHONUTF8", None)
    return subprocess.run(
        [*cli_command(), *args],
        capture_output=True,
        env=env,
        text=True,
        encoding="latin-1",
        timeout=60,
        check=False,
    )


class TestNarrowEncoding:
    """Characters the output encoding lacks are escaped; the exit code stays the work's."""

    def test_a_completed_run_exits_0(self, home: Path) -> None:
        """The summary's glyphs cannot fail a run that completed (and was recorded)."""
        done = _latin1(home, "run", str(EXAMPLES / "linear.json"))
        assert done.returncode == 0, done.stderr
        assert "\\u2713 run " in done.stdout
        assert "completed" in done.stdout

    def test_user_text_is_escaped_not_fatal(self, home: Path) -> None:
        """A stored snowman lists as \\u2603 instead of a codec error with exit code 2."""
        assert (
            _latin1(home, "element", "create", "-t", "Note", "-d", '{"text": "☃"}').returncode == 0
        )
        done = _latin1(home, "element", "list")
        assert done.returncode == 0, done.stderr
        assert "\\u2603" in done.stdout
        assert done.stderr == ""
