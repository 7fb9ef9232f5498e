"""Every Python example in docs/branches.md runs as it is."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "branches.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example_runs(index):
    """The example runs to the end without an error and leaves no thread behind."""
    before = set(threading.enumerate())
    exec(compile(BLOCKS[index], f"docs/branches.md#example{index}", "exec"), {"__name__": "doc"})
    for thread in threading.enumerate():
        if thread not in before:
            thread.join(2.0)
    assert [t for t in threading.enumerate() if t not in before and t.is_alive()] == []


def test_there_are_examples():
    """The guide has runnable examples."""
    assert len(BLOCKS) >= 6
