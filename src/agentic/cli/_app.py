"""The typer application, its global options, and how errors become exit codes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

import agentic
from agentic.cli import _demo
from agentic.cli._context import SETTINGS, printable
from agentic.cli._errors import EXIT_USAGE, exit_code_for

__all__ = ["app", "main"]


class _Group(TyperGroup):
    """The root command: runs the CLI and turns every error into one line and a code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,  # noqa: FBT001, FBT002 - click's signature
        windows_expand_args: bool = True,  # noqa: FBT001, FBT002 - click's signature
        **extra: Any,
    ) -> Any:
        SETTINGS.reset()
        _escape_unencodable()
        argv = list(sys.argv[1:] if args is None else args)
        try:
            result = super().main(
                argv,
                prog_name or "agentic-cli",
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
            code = result if isinstance(result, int) else 0
        except typer.Abort:
            code = _fail("aborted", 130)
        except Exception as exc:  # noqa: BLE001 - the one place every error is reported
            if _is_usage_error(exc):
                return self._finish(_fail(_usage(exc), EXIT_USAGE), standalone_mode)
            code = exit_code_for(exc)
            if SETTINGS.debug or "--debug" in argv:
                import traceback  # noqa: PLC0415

                traceback.print_exception(exc, file=sys.stderr)
            known = isinstance(exc, agentic.errors.AgenticError) or code == EXIT_USAGE
            text = str(exc) if known else f"internal error: {type(exc).__name__}: {exc}"
            if not known and not SETTINGS.debug:
                text += " (run with --debug for the traceback)"
            _fail(text or type(exc).__name__, code)
        return self._finish(code, standalone_mode)

    @staticmethod
    def _finish(code: int, standalone_mode: bool) -> int:  # noqa: FBT001
        if standalone_mode:
            sys.exit(code)
        return code


def _escape_unencodable() -> None:
    # Output to a stream that cannot encode every character (PYTHONIOENCODING=latin-1,
    # a legacy locale) escapes what it cannot encode: a glyph in a summary or a note's
    # text must not turn finished work into a UnicodeEncodeError and exit code 2.
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("_", "-")
        reconfigure = getattr(stream, "reconfigure", None)
        if encoding not in {"utf-8", "utf8"} and reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _is_usage_error(exc: Exception) -> bool:
    # typer vendors click; its ClickException is recognised by shape, not by import.
    return callable(getattr(exc, "format_message", None)) and hasattr(exc, "exit_code")


def _usage(exc: Any) -> str:
    message = str(exc.format_message())
    path = getattr(getattr(exc, "ctx", None), "command_path", None)
    return f"{message} (see `{path} --help`)" if path else message


def _fail(message: str, code: int) -> int:
    lines = [line.strip() for line in printable(str(message)).splitlines() if line.strip()]
    line = " ".join(lines[:1]) or "failed"
    line = line.encode("utf-8", "backslashreplace").decode("utf-8")
    sys.stderr.write(f"error: {line}\n")
    sys.stderr.flush()
    return code


app = typer.Typer(
    name="agentic-cli",
    cls=_Group,
    help="Create elements, build piles and progressions, run workflows and chat with branches.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:  # noqa: FBT001 - typer passes the flag positionally
    if value:
        typer.echo(f"agentic-cli {agentic.__version__}")
        raise typer.Exit


# Commands that only read and write state: they never run an Event, an actor or a
# branch, so nothing logs through structlog, and they skip importing it (~35 ms).
_STATE_COMMANDS = frozenset({"element", "pile", "progression", "events", "runs", "replay"})


@app.callback()
def _root(
    ctx: typer.Context,
    *,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="State directory (default: $AGENTIC_HOME, else ./.agentic).",
            file_okay=False,
        ),
    ] = None,
    providers: Annotated[
        Path | None,
        typer.Option("--providers", help="Provider config (TOML; default: <home>/providers.toml)."),
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="JSON output for every command.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at info level.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    version: Annotated[  # noqa: ARG001 - handled by its eager callback
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """agentic: an actor-system runtime for AI-agent work.

    Exit codes: 0 success, 1 the work failed, 2 bad usage or bad input.
    """
    SETTINGS.home = home
    SETTINGS.providers = providers
    SETTINGS.json = json_
    SETTINGS.verbose = verbose
    SETTINGS.debug = debug
    structured = ctx.invoked_subcommand not in _STATE_COMMANDS or "structlog" in sys.modules
    _configure_logging(verbose=verbose, structured=structured)


def _configure_logging(*, verbose: bool, structured: bool) -> None:
    # Logging is configured here and only here: libraries log, the edge decides where.
    # structlog is configured whenever it is loaded or the command may log through it.
    level = logging.INFO if verbose else logging.WARNING
    if structured:
        _configure_structlog(level)
    root = logging.getLogger()
    root.setLevel(level)
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)


def _configure_structlog(level: int) -> None:
    import structlog  # noqa: PLC0415

    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


def _stderr_logger(*_args: Any) -> Any:
    # Looked up per call, not bound once: in-process runners swap sys.stderr.
    import structlog  # noqa: PLC0415

    return structlog.PrintLogger(sys.stderr)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (in-process runners swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _register() -> None:
    from agentic.cli import (  # noqa: PLC0415 - the command modules import lazily inside
        _branches,
        _elements,
        _events,
        _piles,
        _progressions,
        _runs,
        _status,
    )

    app.add_typer(_elements.app, name="element")
    app.add_typer(_piles.app, name="pile")
    app.add_typer(_progressions.app, name="progression")
    app.command("run")(_runs.run)
    app.add_typer(_runs.app, name="runs")
    app.add_typer(_branches.app, name="branch")
    app.add_typer(_events.app, name="events")
    app.command("replay")(_status.replay)
    app.command("status")(_status.status)
    app.command("demo")(_demo.demo)


_register()


def main() -> None:
    """Run the CLI (the `agentic-cli` console script)."""
    app()
