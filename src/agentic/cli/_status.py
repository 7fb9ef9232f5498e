"""`agentic-cli replay` and `agentic-cli status`."""

from __future__ import annotations

import typer

from agentic.cli._context import (
    JsonOption,
    console,
    emit_json,
    home,
    printable,
    store,
    wants_json,
)
from agentic.cli._errors import EXIT_FAILED

__all__ = ["replay", "status"]


def replay(*, json_: JsonOption = False) -> None:
    """Rebuild every element, pile, progression and branch from the records alone.

    Prints counts and a digest of the state (equal digests, equal state). Exit code 1
    if the rebuilt state is inconsistent.
    """
    from agentic.kernel import replay as replay_state  # noqa: PLC0415

    with store() as opened:
        report = replay_state(opened)
    if wants_json(json_):
        emit_json(report.model_dump(mode="json"))
    else:
        from rich.table import Table  # noqa: PLC0415

        table = Table()
        table.add_column("rebuilt", style="bold")
        table.add_column("count", justify="right")
        for key, value in report.counts.items():
            table.add_row(key, str(value))
        out = console()
        out.print(table)
        out.print(f"rebuilt from {report.position} record(s); digest {report.digest}")
        for problem in report.problems:
            out.print(f"problem: {problem}")
    if report.problems:
        raise typer.Exit(EXIT_FAILED)


def status(*, json_: JsonOption = False) -> None:
    """Show the store (counts, streams) and the health of a runtime started for a probe."""
    from agentic.actors import ActorSystem  # noqa: PLC0415 - heavy imports on demand
    from agentic.branches import spawn_branch  # noqa: PLC0415
    from agentic.kernel import replay as replay_state  # noqa: PLC0415

    with store() as opened:
        report = replay_state(opened)
        streams = {name: opened.stream_sequence(name) for name in opened.streams()}
        path = opened.path
    with ActorSystem("agentic-status") as system:
        probe = spawn_branch(system, "probe")
        info = probe.info()
        health = [h.model_dump(mode="json") for h in system.health()]
    size = path.stat().st_size if path.exists() else 0
    data = {
        "home": str(home()),
        "database": str(path),
        "bytes": size,
        "position": report.position,
        "counts": report.counts,
        "digest": report.digest,
        "streams": streams,
        "probe": info.model_dump(mode="json"),
        "actors": health,
        "healthy": all(h["alive"] for h in health),
    }
    if wants_json(json_):
        emit_json(data)
        return
    from rich.table import Table  # noqa: PLC0415

    out = console()
    out.print(f"state: {path} ({size} bytes, {report.position} records)")
    counts = Table(title="counts")
    for key in report.counts:
        counts.add_column(key, justify="right")
    counts.add_row(*(str(v) for v in report.counts.values()))
    out.print(counts)
    table = Table(title=f"{len(streams)} stream(s)")
    table.add_column("stream")
    table.add_column("records", justify="right")
    runs = {name: count for name, count in streams.items() if name.startswith("run-")}
    for name, count in streams.items():
        if name not in runs:
            table.add_row(printable(name), str(count))
    if runs:  # one row for all runs: `runs list` shows them one by one
        table.add_row(f"run-* ({len(runs)} runs)", str(sum(runs.values())))
    out.print(table)
    actors = Table(title="actors (a runtime started for the probe)")
    for column in ("name", "state", "alive", "mailbox", "processed", "failures", "restarts"):
        actors.add_column(column)
    for h in health:
        actors.add_row(
            h["name"],
            str(h["state"]),
            "yes" if h["alive"] else "NO",
            f"{h['mailbox_depth']}/{h['mailbox_capacity']}",
            str(h["processed"]),
            str(h["failures"]),
            str(h["restarts"]),
        )
    out.print(actors)
    out.print(f"probe branch: {info.status}, providers {', '.join(info.providers)}")
