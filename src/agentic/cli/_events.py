"""`agentic-cli events`: read the event log, filtered by stream, type or correlation id."""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentic.cli._context import JsonOption, console, emit_json, printable, store, wants_json

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rich.table import Table

    from agentic.store import Record

__all__ = ["app", "record_dict"]

app = typer.Typer(help="Read the event log.", no_args_is_help=True)

Stream = Annotated[str | None, typer.Option("--stream", "-s", help="Only this stream.")]
Types = Annotated[
    list[str] | None, typer.Option("--type", "-t", help="Only records of this type (repeatable).")
]
# Positions are SQLite integers: a larger number is bad input, not an overflow inside.
_MAX_POSITION = 2**63 - 1

Correlation = Annotated[
    str | None, typer.Option("--correlation", "-c", help="Only this correlation id.")
]


def record_dict(record: Record) -> dict[str, Any]:
    """Return a record as a JSON-compatible dict."""
    return {
        "position": record.position,
        "stream": record.stream,
        "sequence": record.sequence,
        "type": record.type,
        "timestamp": record.timestamp,
        "recorded_at": record.recorded_at.isoformat(),
        "correlation_id": record.correlation_id,
        "causation_id": record.causation_id,
        "payload": record.payload,
    }


def _table(records: Iterable[Record], title: str, width: int) -> Table:
    import orjson  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    rows = [
        [
            str(r.position),
            r.recorded_at.strftime("%H:%M:%S"),
            r.stream,
            str(r.sequence),
            r.type,
            r.correlation_id or "",
            orjson.dumps(r.payload, default=str).decode(),
        ]
        for r in records
    ]
    columns = ["pos", "time (UTC)", "stream", "#", "type", "correlation", "payload"]
    if not any(row[5] for row in rows):
        columns.pop(5)  # no correlation ids among these records: save the room
        rows = [row[:5] + row[6:] for row in rows]
    used = sum(
        max([len(columns[i])] + [len(row[i]) for row in rows]) for i in range(len(columns) - 1)
    )
    room = max(12, width - used - 3 * len(columns) - 1)
    table = Table(title=title)
    for i, column in enumerate(columns):
        # Position, stream and sequence are what `--from`, `--stream` take: never cut.
        whole = column in {"pos", "stream", "#"}
        table.add_column(
            column,
            no_wrap=whole,  # the others give way on a narrow terminal
            overflow="ellipsis",
            justify="right" if column in {"pos", "#"} else "left",
            min_width=max([len(column)] + [len(row[i]) for row in rows]) if whole else None,
        )
    for row in rows:
        payload = row[-1] if len(row[-1]) <= room else row[-1][: room - 1] + "…"
        table.add_row(*(Text(printable(cell)) for cell in row[:-1]), Text(printable(payload)))
    return table


@app.command("show")
def show(
    *,
    stream: Stream = None,
    types: Types = None,
    correlation: Correlation = None,
    start: Annotated[
        int, typer.Option("--from", min=1, max=_MAX_POSITION, help="First position.")
    ] = 1,
    end: Annotated[
        int | None, typer.Option("--to", min=1, max=_MAX_POSITION, help="Last position.")
    ] = None,
    json_: JsonOption = False,
) -> None:
    """Show every matching record between two positions."""
    with store() as opened:
        records = list(
            opened.read_all(start, end, stream=stream, types=types, correlation_id=correlation)
        )
    if wants_json(json_):
        emit_json([record_dict(r) for r in records])
    else:
        out = console()
        out.print(_table(records, f"{len(records)} record(s)", out.width))


@app.command("tail")
def tail(
    *,
    stream: Stream = None,
    types: Types = None,
    correlation: Correlation = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=0, max=100_000, help="How many records.")
    ] = 20,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new records (Ctrl-C stops).")
    ] = False,
    seconds: Annotated[
        float | None, typer.Option("--for", min=0, help="With --follow: stop after this long.")
    ] = None,
    json_: JsonOption = False,
) -> None:
    """Show the last records; with --follow, keep printing new ones as they come.

    With --json and --follow, each record is one JSON document per line.
    """
    as_json = wants_json(json_)
    with store() as opened:
        filters: dict[str, Any] = {"stream": stream, "types": types, "correlation_id": correlation}
        # Read up to a fixed position and follow from just after it: no record is missed
        # or printed twice, whenever other writers append.
        upto = opened.last_position()
        last = deque(opened.read_all(1, upto, **filters), maxlen=limit) if limit else deque()
        if not follow:
            if as_json:
                emit_json([record_dict(r) for r in last])
            else:
                out = console()
                out.print(_table(last, f"last {len(last)} record(s)", out.width))
            return
        out = console()
        deadline = None if seconds is None else time.monotonic() + seconds
        subscription = opened.subscribe(upto + 1, **filters)
        try:
            for record in last:
                _print_one(record, as_json=as_json, out=out)
            while deadline is None or time.monotonic() < deadline:
                wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))
                for record in subscription.poll(wait):
                    _print_one(record, as_json=as_json, out=out)
        except KeyboardInterrupt:
            pass
        except BrokenPipeError:
            # The reader went away (`| head`): following is over, as Ctrl-C ends it.
            _silence_stdout()
        finally:
            subscription.close()


def _silence_stdout() -> None:
    # Later writes (and the flush at exit) must not fail on the closed pipe again.
    import os  # noqa: PLC0415

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor (an in-process runner's buffer)
        pass


def _print_one(record: Record, *, as_json: bool, out: Any) -> None:
    if as_json:
        import orjson  # noqa: PLC0415

        typer.echo(orjson.dumps(record_dict(record), default=str).decode())
    else:
        out.print(
            printable(
                f"{record.position:>6} {record.recorded_at:%H:%M:%S} {record.stream}"
                f"#{record.sequence} {record.type} {record.correlation_id or ''}"
            )
        )
