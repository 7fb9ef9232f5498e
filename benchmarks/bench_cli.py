"""Benchmark agentic-cli start-up: wall time of whole invocations, as a user sees them.

Run: python benchmarks/bench_cli.py [--runs 15]

Each command runs as a fresh subprocess (the installed `agentic-cli` next to this
interpreter) against a temporary state directory; the table shows medians. The
floors are the interpreter alone and the interpreter importing typer (the CLI
framework every typer CLI pays for), so the ratios show what agentic adds.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "agentic-cli"


def timed(command: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of `command`, in ms.

    On a loaded machine the CPU time is the steadier measure of what start-up costs.
    """
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=False)
        walls.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    """Print the table of medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, AGENTIC_HOME=home)
        cli = [str(SCRIPT)]
        subprocess.run(
            [*cli, "element", "create", "-t", "Note", "-d", '{"text": "x"}'],
            env=env,
            check=True,
            capture_output=True,
        )
        floor = timed([sys.executable, "-c", "pass"], env, args.runs)
        typer_floor = timed([sys.executable, "-c", "import typer, rich"], env, args.runs)
        rows = [
            ("python -c pass (floor)", floor),
            ("python -c 'import typer, rich' (floor)", typer_floor),
            ("agentic-cli --version", timed([*cli, "--version"], env, args.runs)),
            ("agentic-cli --help", timed([*cli, "--help"], env, args.runs)),
            (
                "agentic-cli pile list (trivial, opens the store)",
                timed([*cli, "pile", "list"], env, args.runs),
            ),
            (
                "agentic-cli element list --json",
                timed([*cli, "element", "list", "--json"], env, args.runs),
            ),
            (
                "agentic-cli run examples/linear.json --json",
                timed(
                    [*cli, "run", str(ROOT / "examples" / "linear.json"), "--json"], env, args.runs
                ),
            ),
        ]
    print(f"{'command':<52} {'wall ms':>8} {'cpu ms':>7} {'cpu x typer floor':>18}")
    for name, (wall, cpu) in rows:
        print(f"{name:<52} {wall:>8.0f} {cpu:>7.0f} {cpu / typer_floor[1]:>18.2f}")


if __name__ == "__main__":
    main()
