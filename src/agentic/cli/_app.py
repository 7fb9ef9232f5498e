"""The typer application and its entry point."""

from __future__ import annotations

from typing import Annotated

import typer

import agentic
from agentic.cli import _demo

__all__ = ["app", "main"]

app = typer.Typer(
    name="agentic-cli",
    help="Create elements, build piles and progressions, and run workflows with agentic.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:  # noqa: FBT001 - typer passes the flag positionally
    if value:
        typer.echo(f"agentic-cli {agentic.__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[  # noqa: FBT002 - a typer flag
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """agentic: an actor-system runtime for AI-agent work."""


app.command("demo")(_demo.demo)


def main() -> None:
    """Run the CLI (the `agentic-cli` console script)."""
    app()
