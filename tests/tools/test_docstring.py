"""Tests for the Google-style docstring reader."""

from __future__ import annotations

from agentic.tools._docstring import parse_docstring


class TestParseDocstring:
    def test_summary_and_args(self):
        """The text before the first section is the description; Args entries are read."""
        doc = """Search the index.

        Finds documents.

        Args:
            query (str): What to look for,
                in plain words.
            limit: At most this many.

        Returns:
            The hits.
        """
        description, args = parse_docstring(doc)
        assert description == "Search the index.\n\nFinds documents."
        assert args == {"query": "What to look for, in plain words.", "limit": "At most this many."}

    def test_empty(self):
        """No docstring gives empty parts."""
        assert parse_docstring(None) == ("", {})

    def test_other_sections_are_ignored(self):
        """Only the Args section feeds parameter descriptions."""
        doc = "Do it.\n\nRaises:\n    ValueError: never.\n"
        assert parse_docstring(doc) == ("Do it.", {})
