"""The public surface of agentic.tools is pinned."""

from __future__ import annotations

import agentic.tools


class TestExports:
    def test_all_is_complete(self):
        """__all__ lists every public name, and only those."""
        public = {n for n in dir(agentic.tools) if not n.startswith("_")} - {"annotations"}
        assert sorted(public) == sorted(agentic.tools.__all__)
