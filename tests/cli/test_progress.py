"""The live display of a run and its summary table, rendered to a string."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from agentic.cli._progress import RunDisplay, summary_table
from agentic.kernel import RunReport, StepReport, StepUpdate, parse_workflow
from agentic.primitives import EventStatus


def _workflow(steps: int) -> str:
    lines = ['name = "many"']
    for i in range(steps):
        lines += ["[[steps]]", f'id = "s{i}"', 'tool = "echo"', 'args = { text = "x" }']
    return "\n".join(lines)


def _console(height: int = 20) -> Console:
    return Console(file=io.StringIO(), width=80, height=height, force_terminal=True)


class TestRunDisplay:
    """What the terminal shows while a run goes."""

    def test_a_short_run_lists_every_step(self) -> None:
        """Each step appears with its status; the bar counts finished steps."""
        display = RunDisplay(parse_workflow(_workflow(3), fmt="toml"), _console())
        display.update(
            StepUpdate(step="s0", phase="started", status=EventStatus.PROCESSING, done=0, total=3)
        )
        display.update(
            StepUpdate(step="s0", phase="finished", status=EventStatus.COMPLETED, done=1, total=3)
        )
        console = _console()
        console.print(display)
        text = console.file.getvalue()  # type: ignore[attr-defined]
        assert "1/3 steps" in text
        assert "completed" in text
        assert text.count("pending") == 2

    def test_a_long_run_fits_the_screen(self) -> None:
        """With more steps than rows, running and recent steps show, the rest is counted."""
        console = _console(height=20)
        display = RunDisplay(parse_workflow(_workflow(40), fmt="toml"), console)
        for i in range(30):
            display.update(
                StepUpdate(
                    step=f"s{i}", phase="started", status=EventStatus.PROCESSING, done=i, total=40
                )
            )
            display.update(
                StepUpdate(
                    step=f"s{i}",
                    phase="finished",
                    status=EventStatus.COMPLETED,
                    done=i + 1,
                    total=40,
                )
            )
        display.update(
            StepUpdate(
                step="s30", phase="started", status=EventStatus.PROCESSING, done=30, total=40
            )
        )
        console.print(display)
        text = console.file.getvalue()  # type: ignore[attr-defined]
        assert "s30" in text
        assert "s29" in text
        assert "… and" in text
        assert len(text.splitlines()) <= 20

    def test_non_terminal_prints_one_line_per_finished_step(self) -> None:
        """Piped output gets a line per finished step instead of a live display."""
        out = Console(file=io.StringIO(), width=80)
        display = RunDisplay(parse_workflow(_workflow(2), fmt="toml"), out)
        display.update(
            StepUpdate(step="s1", phase="finished", status=EventStatus.FAILED, done=1, total=2)
        )
        assert "s1" in out.file.getvalue()  # type: ignore[attr-defined]
        assert "[1/2]" in out.file.getvalue()  # type: ignore[attr-defined]


class TestSummaryTable:
    """The table at the end of a run."""

    def test_results_and_errors_fit_one_line(self) -> None:
        """Long results are cut to the width; errors are shown for failed steps."""
        report = RunReport(
            run_id="r1",
            workflow="w",
            status="failed",
            started_at=datetime.now(UTC),
            duration=0.5,
            steps=[
                StepReport(
                    id="a",
                    kind="tool",
                    target="echo",
                    status=EventStatus.COMPLETED,
                    duration=0.1,
                    result="x" * 500,
                    event_id="e1",
                ),
                StepReport(
                    id="b",
                    kind="tool",
                    target="add",
                    status=EventStatus.FAILED,
                    duration=0.0,
                    error="b: Field required",
                    event_id="e2",
                ),
            ],
        )
        console = Console(file=io.StringIO(), width=80)
        console.print(summary_table(report, 80))
        text = console.file.getvalue()  # type: ignore[attr-defined]
        assert all(len(line) <= 80 for line in text.splitlines())
        assert "b: Field required" in text
        assert "1/2 steps completed" in text
