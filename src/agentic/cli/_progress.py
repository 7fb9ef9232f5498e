"""The live display of a workflow run, and the summary table at its end."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from agentic.cli._context import printable

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table

    from agentic.kernel import RunReport, StepUpdate, Workflow

__all__ = ["STATUS_STYLES", "RunDisplay", "summary_table"]

STATUS_STYLES = {
    "pending": ("·", "dim"),
    "processing": ("▶", "cyan"),
    "completed": ("✓", "green"),
    "failed": ("✗", "red"),
    "cancelled": ("✗", "magenta"),
    "denied": ("⊘", "red"),
    "skipped": ("↷", "yellow"),
}
"""A glyph and a style for each step status."""

_RESULT_WIDTH = 200


class RunDisplay:
    """What the terminal shows while a workflow runs: each step's status, and a bar.

    `update` is called from the runtime's loop thread; rendering happens on rich's
    refresh thread; a lock keeps the two apart. On a non-terminal, each finished step
    prints one line instead.
    """

    def __init__(self, workflow: Workflow, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()
        self._order = [step.id for step in workflow.steps]
        self._status = dict.fromkeys(self._order, "pending")
        self._started: dict[str, float] = {}
        self._took: dict[str, float] = {}
        self._finished: list[str] = []
        self._done = 0
        self._title = workflow.name
        self._clock = time.perf_counter()

    def update(self, update: StepUpdate) -> None:
        """Take a progress notice from the runner."""
        now = time.perf_counter()
        with self._lock:
            self._status[update.step] = str(update.status)
            self._done = update.done
            if update.phase == "started":
                self._started[update.step] = now
            else:
                self._took[update.step] = now - self._started.get(update.step, now)
                self._finished.append(update.step)
        if update.phase == "finished" and not self.console.is_terminal:
            glyph, _ = STATUS_STYLES.get(str(update.status), ("?", ""))
            since = now - self._clock
            self.console.print(
                f"  {glyph} {update.step:<20} {update.status!s:<10} "
                f"[{update.done}/{update.total}] at +{since:.3f}s"
            )

    def __rich__(self) -> RenderableType:
        """Render the steps and the bar (rich calls this on each refresh)."""
        from rich.console import Group  # noqa: PLC0415
        from rich.progress_bar import ProgressBar  # noqa: PLC0415
        from rich.table import Table  # noqa: PLC0415
        from rich.text import Text  # noqa: PLC0415

        now = time.perf_counter()
        with self._lock:
            status = dict(self._status)
            started, took, done = dict(self._started), dict(self._took), self._done
            finished = list(self._finished)
        table = Table.grid(padding=(0, 2))
        for step in self._visible(status, finished):
            glyph, style = STATUS_STYLES.get(status[step], ("?", ""))
            if step in took:
                elapsed = f"{took[step]:.3f}s"
            elif step in started:
                elapsed = f"{now - started[step]:.1f}s…"
            else:
                elapsed = ""
            table.add_row(
                Text(glyph, style=style), Text(step), Text(status[step], style=style), elapsed
            )
        hidden = len(self._order) - table.row_count
        if hidden:
            table.add_row("", Text(f"… and {hidden} more", style="dim"), "", "")
        total = len(self._order)
        bar = Table.grid(padding=(0, 1))
        bar.add_row(
            Text(printable(self._title), style="bold"),
            ProgressBar(total=total, completed=done, width=40),
            Text(f"{done}/{total} steps"),
        )
        return Group(bar, table)

    def _visible(self, status: dict[str, str], finished: list[str]) -> list[str]:
        # A terminal holds a screenful: with many steps, show the running ones, the
        # last few finished, and the next few waiting.
        room = max(8, self.console.height - 6)
        if len(self._order) <= room:
            return self._order
        running = [s for s in self._order if status[s] == "processing"]
        waiting = [s for s in self._order if status[s] == "pending"]
        chosen = set(running[:room])
        for group in (finished[::-1], waiting):
            for step in group:
                if len(chosen) >= room:
                    break
                chosen.add(step)
        return [s for s in self._order if s in chosen]


def summary_table(report: RunReport, width: int = 100) -> Table:
    """Return the table of a finished run: status, duration, result or error per step.

    Args:
        report: The run's report.
        width: The console's width: results are cut to one line that fits.
    """
    import orjson  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    ok = sum(1 for step in report.steps if str(step.status) == "completed")
    table = Table(
        title=f"run {report.run_id} · {printable(report.workflow)} · {report.status}",
        caption=f"{ok}/{len(report.steps)} steps completed in {report.duration:.3f}s",
    )
    for column in ("step", "target", "status"):
        table.add_column(column, no_wrap=True)
    table.add_column("duration", justify="right", no_wrap=True)
    # One line per step: the whole result is in `runs show ID --json`.
    fixed = sum(
        (
            max((len(step.id) for step in report.steps), default=4),
            max((len(step.target) for step in report.steps), default=6),
            12 + 9,  # status, duration
            5 * 3 + 1,  # borders and padding
        )
    )
    table.add_column(
        "result / error", no_wrap=True, overflow="ellipsis", max_width=max(16, width - fixed)
    )
    for step in report.steps:
        glyph, style = STATUS_STYLES.get(str(step.status), ("?", ""))
        if step.error is not None:
            detail = Text(_clip(step.error), style="red")
        else:
            detail = Text(_clip(_as_text(step.result, orjson)))
        duration = f"{step.duration:.3f}s" if step.duration is not None else "-"
        table.add_row(
            Text(step.id),
            Text(step.target),
            Text(f"{glyph} {step.status}", style=style),
            duration,
            detail,
        )
    return table


def _as_text(value: Any, orjson: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "reply" in value:
        return str(value["reply"])
    text: str = orjson.dumps(value, default=str).decode()
    return text


def _clip(text: str) -> str:
    text = printable(" ".join(text.split()))
    return text if len(text) <= _RESULT_WIDTH else text[: _RESULT_WIDTH - 1] + "…"
