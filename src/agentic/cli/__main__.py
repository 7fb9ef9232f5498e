"""`python -m agentic.cli`: the same as the `agentic-cli` script."""

from agentic.cli._app import main

__all__: list[str] = []

main()
