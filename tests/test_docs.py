"""The documentation runs: README.md's and docs/primitives.md's examples, and the primitives' docstrings."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import agentic.primitives

ROOT = Path(__file__).resolve().parent.parent
GUIDES = [ROOT / "README.md", ROOT / "docs" / "primitives.md"]
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(path: Path) -> list[str]:
    return FENCE.findall(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_guide_examples_run_in_order(guide, capsys):
    """Every ```python block of the guide runs, in order, in one namespace."""
    blocks = python_blocks(guide)
    assert blocks, f"{guide} has no python examples"
    namespace: dict[str, object] = {"__name__": f"docs_{guide.stem}"}
    for number, block in enumerate(blocks, 1):
        code = compile(block, f"{guide.name} (block {number})", "exec")
        exec(code, namespace)
    capsys.readouterr()


MODULES = sorted(
    info.name for info in pkgutil.walk_packages(agentic.primitives.__path__, "agentic.primitives.")
)


@pytest.mark.parametrize("name", ["agentic.primitives", *MODULES])
def test_docstring_examples(name):
    """The docstring examples of the primitives pass doctest."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=True)
    assert result.failed == 0
