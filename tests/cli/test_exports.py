"""The public surface of agentic.cli and of the state model it adds to agentic.kernel."""

from __future__ import annotations

import subprocess
import sys

import agentic.cli
import agentic.kernel

STATE_NAMES = {
    "BranchHistory",
    "CATALOG_STREAM",
    "Catalog",
    "CatalogError",
    "CatalogInputError",
    "Document",
    "ELEMENTS_STREAM",
    "EntryExistsError",
    "EntryNotFoundError",
    "NAME_PATTERN",
    "Note",
    "ReplayReport",
    "RunSummary",
    "Task",
    "check_name",
    "element_type",
    "element_type_names",
    "replay",
    "resolve_id",
    "run_summaries",
    "short_id",
}


class TestExports:
    """What the packages export."""

    def test_cli_exports(self) -> None:
        """agentic.cli exports the typer app and the console-script entry point."""
        assert agentic.cli.__all__ == ["app", "main"]

    def test_kernel_exports_the_state_model(self) -> None:
        """The Catalog and its helpers are exported from agentic.kernel."""
        assert set(agentic.kernel.__all__) >= STATE_NAMES
        for name in STATE_NAMES:
            assert getattr(agentic.kernel, name) is not None

    def test_help_does_not_load_the_runtime(self) -> None:
        """Importing the CLI (what `--help` needs) loads no actors, branches or runner."""
        code = (
            "import sys, agentic.cli; "
            "print(sorted(m for m in ('pykka', 'agentic.actors', 'agentic.branches', "
            "'agentic.kernel', 'rich.table') if m in sys.modules))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert done.stdout.strip() == "[]"
