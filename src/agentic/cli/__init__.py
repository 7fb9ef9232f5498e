"""agentic-cli: the command-line face of agentic (typer)."""

from agentic.cli._app import app, main

__all__ = ["app", "main"]
