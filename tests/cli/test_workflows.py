"""`agentic-cli run`: workflow files checked in full before anything runs or is recorded."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Run, assert_one_line_error

TYPO = """name = "typo"
[[steps]]
id = "fetch"
tool = "echo"
args = { text = "x" }
[[steps]]
id = "use"
tool = "echo"
args = { text = "got ${steps.fetch.reslt}" }
depends_on = ["fetch"]
"""


class TestCitations:
    """A mistyped citation is refused at load; `$${` is a literal `${`."""

    def test_a_mistyped_citation_is_refused_before_the_store_is_touched(
        self, sh: Run, home: Path, tmp_path: Path
    ) -> None:
        """Exit 2, one line naming file, step, argument and citation; no state is created."""
        path = tmp_path / "typo.toml"
        path.write_text(TYPO)
        outcome = sh("run", str(path))
        assert_one_line_error(outcome, 2)
        line = outcome.stderr.strip()
        assert line.startswith(f"error: {path}: step 'use' argument 'text': ")
        assert "'${steps.fetch.reslt}' is not a citation" in line
        assert "did you mean '${steps.fetch.result}'?" in line
        assert not home.exists()

    def test_an_escaped_dollar_runs_as_text(self, sh: Run, tmp_path: Path) -> None:
        """`$${HOME}` reaches the tool as `${HOME}`; the run completes."""
        path = tmp_path / "escape.toml"
        path.write_text(TYPO.replace("${steps.fetch.reslt}", "$${HOME} ${steps.fetch.result}"))
        outcome = sh("run", str(path), "--json")
        assert outcome.code == 0, outcome
        assert outcome.json()["steps"][1]["result"] == "got ${HOME} x"


class TestRefusedBeforeTheStore:
    """A workflow that cannot run here is refused before the state directory is touched."""

    def test_an_unknown_tool_creates_no_state(self, sh: Run, home: Path, tmp_path: Path) -> None:
        """Exit 2 naming the tool, and no state directory appears."""
        path = tmp_path / "unknown.toml"
        path.write_text('name = "u"\n[[steps]]\nid = "a"\ntool = "format_disk"\n')
        outcome = sh("run", str(path))
        assert_one_line_error(outcome, 2)
        assert "unknown tool 'format_disk'" in outcome.stderr
        assert not home.exists()
