"""`agentic-cli runs`: the recorded runs, on a terminal of any width."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.cli.conftest import Run, _env, cli_command


def narrow(home: Path, *args: str, columns: int = 60) -> str:
    """Run the CLI with a narrow terminal width; return stdout."""
    env = _env(home) | {"COLUMNS": str(columns)}
    done = subprocess.run(
        [*cli_command(), *args], capture_output=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


class TestNarrowTables:
    """The ids a user types next (`runs show ID`, `--from POS`) are never cut."""

    def test_runs_list_keeps_whole_run_ids(self, sh: Run, home: Path, tmp_path: Path) -> None:
        """A long workflow name is shortened, the run id is not."""
        path = tmp_path / "long.toml"
        name = "a workflow with a rather long descriptive name"
        path.write_text(
            f'name = "{name}"\n[[steps]]\nid = "a"\ntool = "echo"\nargs = {{text = "x"}}\n'
        )
        run_id = sh("run", str(path), "--json").json()["run_id"]
        for columns in (60, 80):
            assert run_id in narrow(home, "runs", "list", columns=columns)

    def test_events_tail_keeps_positions_and_streams(self, sh: Run, home: Path) -> None:
        """Each row shows its whole position, stream and sequence number."""
        path = Path(__file__).resolve().parents[2] / "examples" / "linear.json"
        run_id = sh("run", str(path), "--json").json()["run_id"]
        last = sh("events", "tail", "-n", "1", "--json").json()[-1]
        for columns in (60, 80):
            lines = narrow(home, "events", "tail", "-n", "1", columns=columns).splitlines()
            row = [cell.strip() for cell in lines[-2].strip("│").split("│")]
            assert row[0] == str(last["position"])
            assert f"run-{run_id}" in row
            assert str(last["sequence"]) in row
