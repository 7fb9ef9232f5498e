"""The public surface of agentic.execution is pinned."""

from __future__ import annotations

import subprocess
import sys

import agentic.execution
from agentic.execution import types


class TestExports:
    def test_all_is_sorted_and_complete(self):
        """__all__ lists every public name, and only those."""
        public = sorted(n for n in dir(agentic.execution) if not n.startswith("_") and n != "types")
        exported = set(agentic.execution.__all__)
        assert sorted(exported) == sorted(set(public) - {"annotations"})

    def test_types_module_exports(self):
        """The aliases live in one module."""
        assert types.__all__ == ["CallNext", "KeyFunc", "Processor", "Resolver", "Sleep", "Target"]

    def test_errors_show_their_public_path(self):
        """Error types are reported under agentic.execution."""
        assert agentic.execution.TargetNotFoundError.__module__ == "agentic.execution"

    def test_execution_does_not_import_tools_or_actors(self):
        """The execution layer imports no higher layer (and no pykka)."""
        code = (
            "import sys, agentic.execution; "
            "bad = [m for m in sys.modules if m.startswith(('agentic.tools', 'agentic.actors', 'pykka'))]; "
            "print(bad)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "[]"
