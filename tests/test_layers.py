"""The layering rule: packages import only downward, and the primitives never load pykka."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_imports_go_down_the_layers():
    """tools/layers.py finds no upward or sideways import in src/agentic."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "layers.py"), str(ROOT / "src" / "agentic")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every import goes down" in result.stdout


def test_primitives_do_not_load_the_actor_machinery():
    """Importing agentic.primitives (and using it) loads neither pykka nor any upper layer."""
    code = (
        "import sys\n"
        "import agentic.primitives as p\n"
        "p.Pile([p.Element()]).to_json()\n"
        "bad = sorted(m for m in sys.modules if m == 'pykka' or m.startswith('pykka.')"
        " or m.split('.')[:2] in (['agentic', 'actors'], ['agentic', 'cli'], ['agentic', 'branches']))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == ""
