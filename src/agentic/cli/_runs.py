"""`agentic-cli run FILE` and `agentic-cli runs`: run workflows, and show recorded runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentic.cli._context import (
    JsonOption,
    console,
    emit_json,
    printable,
    provider_map,
    store,
    wants_json,
)
from agentic.cli._errors import EXIT_FAILED

if TYPE_CHECKING:
    from rich.console import Console

    from agentic.cli._progress import RunDisplay
    from agentic.kernel import RunReport, Workflow, WorkflowRunner
    from agentic.store import EventStore

__all__ = ["app", "load_report", "run"]

app = typer.Typer(help="Recorded workflow runs.", no_args_is_help=True)


def run(
    file: Annotated[Path, typer.Argument(help="A workflow file (.toml or .json).")],
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.001, max=86400, help="Seconds per step attempt.")
    ] = 60.0,
    *,
    json_: JsonOption = False,
) -> None:
    """Run a workflow: steps in dependency order, independent ones in parallel.

    Shows live progress and a summary table; the run is recorded in the store
    (`runs show ID` shows it again). Exit code 1 if any step did not complete.
    """
    from agentic.actors import ActorSystem  # noqa: PLC0415 - heavy imports on demand
    from agentic.cli._progress import RunDisplay, summary_table  # noqa: PLC0415
    from agentic.kernel import WorkflowRunner, load_workflow, standard_tools  # noqa: PLC0415

    workflow = load_workflow(file)  # bad files are refused before the store is touched
    providers = provider_map()
    as_json = wants_json(json_)
    out = console()
    with ActorSystem("agentic-cli") as system:
        display = RunDisplay(workflow, out)
        runner = WorkflowRunner(
            system,
            tools=standard_tools(),
            providers=providers,
            timeout=timeout,
            on_update=None if as_json else display.update,
        )
        runner.check(workflow)  # an unknown tool: refused before the store is touched too
        with store() as opened:
            runner.store = opened
            report = _run(runner, workflow, display, out, as_json=as_json)
    if as_json:
        emit_json(report.model_dump(mode="json"))
    else:
        out.print(summary_table(report, out.width))
        out.print(f"{'✓' if report.ok else '✗'} run {report.run_id} {report.status}")
        out.print(
            f"  recorded as run-{report.run_id}; again: agentic-cli runs show {report.run_id}"
        )
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


def _run(
    runner: WorkflowRunner, workflow: Workflow, display: RunDisplay, out: Console, *, as_json: bool
) -> RunReport:
    from rich.live import Live  # noqa: PLC0415

    if as_json:
        return runner.run(workflow)
    if out.is_terminal:
        with Live(display, console=out, refresh_per_second=12, transient=True):
            return runner.run(workflow)
    out.print(f"running {printable(workflow.name)} ({len(workflow.steps)} steps)")
    return runner.run(workflow)


def load_report(opened: EventStore, run_id: str) -> RunReport:
    """Return the report of run `run_id` (or a unique prefix), rebuilt if unfinished.

    Raises:
        EntryNotFoundError: No run has that id.
        CatalogInputError: The prefix matches several runs.
    """
    from agentic.kernel import (  # noqa: PLC0415
        CatalogInputError,
        EntryNotFoundError,
        RunReport,
        StepReport,
    )

    runs = [s.removeprefix("run-") for s in opened.streams() if s.startswith("run-")]
    matches = [r for r in runs if r == run_id] or [r for r in runs if r.startswith(run_id)]
    if not run_id or not matches:
        msg = f"run {run_id!r} not found (see `agentic-cli runs list`)"
        raise EntryNotFoundError(msg, kind="run", key=run_id)
    if len(matches) > 1:
        msg = f"run id prefix {run_id!r} matches {len(matches)} runs; give more characters"
        raise CatalogInputError(msg)
    started: Any = None
    steps: list[Any] = []
    for record in opened.read(f"run-{matches[0]}"):
        if record.type == "run.finished":
            return RunReport.model_validate(record.payload)
        if record.type == "run.started":
            started = record
        elif record.type == "step.finished":
            event = record.payload["event"]
            execution = event.get("execution") or {}
            error = execution.get("error") or {}
            steps.append(
                StepReport(
                    id=record.payload["step"],
                    kind="chat" if str(event.get("target", "")).startswith("branch:") else "tool",
                    target=str(event.get("target", "?")),
                    status=event.get("status", "pending"),
                    duration=execution.get("duration"),
                    result=execution.get("response"),
                    error=error.get("message") or execution.get("reason"),
                    event_id=str(event.get("id", "")),
                )
            )
    workflow = started.payload["workflow"] if started is not None else {"name": "?"}
    return RunReport(
        run_id=matches[0],
        workflow=workflow.get("name", "?"),
        status="failed",
        started_at=started.recorded_at if started is not None else 0,
        duration=0.0,
        steps=steps,
    )


@app.command("list")
def list_(*, json_: JsonOption = False) -> None:
    """List the recorded runs, oldest first."""
    from agentic.kernel import run_summaries  # noqa: PLC0415

    with store() as opened:
        runs = run_summaries(opened)
    if wants_json(json_):
        emit_json([run.model_dump(mode="json") for run in runs])
        return
    from datetime import UTC, datetime  # noqa: PLC0415

    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    from agentic.cli._progress import STATUS_STYLES  # noqa: PLC0415

    table = Table(title=f"{len(runs)} run(s)")
    # The run id is what `runs show` takes: never shortened; the workflow name gives way.
    longest = max((len(run.run_id) for run in runs), default=3)
    table.add_column("run", no_wrap=True, min_width=longest)
    for column in ("workflow", "status", "steps", "started (UTC)", "duration"):
        table.add_column(column, overflow="ellipsis")  # these give way on a narrow terminal
    for run in runs:
        _, style = STATUS_STYLES.get(run.status, ("", "yellow"))
        when = datetime.fromtimestamp(run.started_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(
            run.run_id,
            Text(printable(run.workflow)),
            Text(run.status, style=style),
            f"{run.finished_steps}/{run.steps}",
            when,
            f"{run.duration:.3f}s" if run.duration is not None else "-",
        )
    console().print(table)


@app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(help="The run id (or a unique prefix).")],
    *,
    json_: JsonOption = False,
) -> None:
    """Show a recorded run's summary table again."""
    from agentic.cli._progress import summary_table  # noqa: PLC0415

    with store() as opened:
        report = load_report(opened, run_id)
    if wants_json(json_):
        emit_json(report.model_dump(mode="json"))
    else:
        out = console()
        out.print(summary_table(report, out.width))
