"""Output on a terminal or pipe that cannot encode every character."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.cli.conftest import Run, _env, cli_command

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


ESC = "\x1b]0;pwned\x07\x1b[31m"
"""A terminal title change and a colour, as stored data might carry them."""


class TestControlCharacters:
    """Human output never passes stored control characters to the terminal; --json keeps them."""

    def test_element_show_escapes_them(self, cli: Run) -> None:
        """`element show` prints \\x1b as text; the JSON document keeps the real value."""
        made = cli("element", "create", "-t", "Note", "-d", json.dumps({"text": f"a{ESC}b"}))
        assert made.code == 0, made
        key = made.stdout.strip()
        shown = cli("element", "show", key)
        assert shown.code == 0, shown
        assert "\x1b" not in shown.stdout
        assert "\x07" not in shown.stdout
        assert "\\x1b]0;pwned" in shown.stdout
        assert cli("element", "show", key, "--json").json()["text"] == f"a{ESC}b"

    def test_branch_chat_and_show_escape_them(self, cli: Run) -> None:
        """A reply (here the offline echo) and the stored conversation print escaped."""
        assert cli("branch", "create", "b").code == 0
        chat = cli("branch", "chat", "b", f"hi{ESC}there")
        assert chat.code == 0, chat
        assert "\x1b" not in chat.stdout
        assert "\\x1b[31m" in chat.stdout
        shown = cli("branch", "show", "b")
        assert "\x1b" not in shown.stdout
        assert "\\x1b" in shown.stdout

    def test_run_output_escapes_them(self, cli: Run, tmp_path: Path) -> None:
        """A workflow's name and a step's result print escaped in progress and summary."""
        path = tmp_path / "esc.json"
        step = {"id": "a", "tool": "echo", "args": {"text": f"x{ESC}y"}}
        path.write_text(json.dumps({"name": f"w{ESC}", "steps": [step]}))
        outcome = cli("run", str(path))
        assert outcome.code == 0, outcome
        assert "\x1b" not in outcome.stdout
        listing = cli("runs", "list")
        assert "\x1b" not in listing.stdout
        assert "\\x1b" in listing.stdout

    def test_line_ends_stay_line_ends(self) -> None:
        """Tab, newline and CRLF print as they are; a lone CR (it rewrites a line) does not."""
        from agentic.cli._context import printable

        assert printable("a\tb\nc\r\nd") == "a\tb\nc\nd"
        assert printable("done\rfake") == "done\\x0dfake"
