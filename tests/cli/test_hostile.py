"""Hostile input: every bad argument, document, workflow or state directory ends with
exit code 1 or 2, one `error:` line on stderr, and the state exactly as it was."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from tests.cli.conftest import Run, assert_one_line_error, invoke_in_process

CYCLE = """name = "cycle"
[[steps]]
id = "a"
tool = "echo"
args = { text = "x" }
depends_on = ["b"]
[[steps]]
id = "b"
tool = "echo"
args = { text = "y" }
depends_on = ["a"]
"""
UNKNOWN_TOOL = 'name = "u"\n[[steps]]\nid = "a"\ntool = "format_disk"\n'
TYPO = """name = "typo"
[[steps]]
id = "fetch"
tool = "echo"
args = { text = "x" }
[[steps]]
id = "use"
tool = "echo"
args = { text = "got ${steps.fetch.reslt}" }
depends_on = ["fetch"]
"""


def digest(home: Path) -> str:
    """The replay digest of the state in `home`."""
    outcome = invoke_in_process(home, ["replay", "--json"])
    assert outcome.code == 0, outcome
    result: str = outcome.json()["digest"]
    return result


@pytest.fixture
def ids(cli: Run) -> dict[str, str]:
    """A populated state: two notes, a task, a typed pile, a bound progression, a branch."""
    made = {}
    for key, kind, data in [
        ("n1", "Note", '{"text": "one"}'),
        ("n2", "Note", '{"text": "two"}'),
        ("t", "Task", '{"title": "do"}'),
    ]:
        outcome = cli("element", "create", "-t", kind, "-d", data)
        assert outcome.code == 0, outcome
        made[key] = outcome.stdout.strip()
    for args in (
        ["pile", "create", "notes", "--type", "Note"],
        ["pile", "add", "notes", made["n1"]],
        ["progression", "create", "order", "--pile", "notes"],
        ["progression", "append", "order", made["n1"]],
        ["branch", "create", "b"],
    ):
        assert cli(*args).code == 0
    return made


def _chattr(flag: str, path: Path) -> bool:
    """Set or clear a file attribute with chattr; return whether it worked."""
    tool = shutil.which("chattr")
    if tool is None:
        return False
    done = subprocess.run([tool, flag, str(path)], capture_output=True, check=False)
    return done.returncode == 0


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def cases(ids: dict[str, str], tmp: Path) -> list[tuple[list[str], int, str]]:
    """(arguments, exit code, a phrase the error must contain)."""
    n1, n2, t = ids["n1"], ids["n2"], ids["t"]
    return [
        (["element", "create", "-t", "Note", "-d", "{bad"], 2, "not valid JSON"),
        (["element", "create", "-t", "Note", "-d", '{"text":"a","text":"b"}'], 2, "duplicate"),
        (["element", "create", "-t", "Note", "-d", '{"text": NaN}'], 2, "NaN"),
        (["element", "create", "-t", "Note", "-d", "[1, 2]"], 2, "JSON object"),
        (["element", "create", "-t", "Note", "-d", '{"text": 5}'], 2, "text"),
        (["element", "create", "-t", "Task", "-d", '{"title": "x", "priority": 1e999}'], 2, ""),
        (["element", "create", "-t", "Note", "-d", "[" * 5000 + "]" * 5000], 2, "deeply"),
        (
            [
                "element",
                "create",
                "-t",
                "Note",
                "-d",
                '{"text":"x","metadata":{"a":' + "9" * 30 + "}}",
            ],
            2,
            "64-bit",
        ),
        (["element", "create", "-t", "Note", "-d", '{"text": "' + "9" * 5000], 2, "JSON"),
        (["element", "create", "-t", "Nope", "-d", "{}"], 2, "unknown element type 'Nope'"),
        (
            ["element", "create", "-t", "Note", "-d", "@" + _write(tmp, "bad.json", b"\xff\xfe")],
            2,
            "UTF-8",
        ),
        (["element", "create", "-t", "Note", "-d", "@/nonexistent/x.json"], 2, "cannot read"),
        (
            ["element", "create", "-t", "Note", "-d", f'{{"id": "{n1}", "text": "dup"}}'],
            2,
            "exists",
        ),
        (["element", "show", "12345678-1234-1234-1234-123456789abc"], 2, "not found"),
        (["element", "show", "zzzz"], 2, "not an element id"),
        (["element", "list", "--type", "Nope"], 2, "unknown element type"),
        (["pile", "create", "notes"], 2, "already exists"),
        (["pile", "create", "../etc"], 2, "invalid pile name"),
        (["pile", "create", "x", "--type", "Nope"], 2, "unknown element type"),
        (["pile", "add", "nope", n1], 2, "pile 'nope' not found"),
        (["pile", "add", "notes", n2, "12345678"], 2, "not found in the store"),
        (["pile", "add", "notes", t], 2, "holds agentic.Note"),
        (["pile", "remove", "notes", n2], 2, "not found in pile 'notes'"),
        (["pile", "remove", "notes", n1], 2, "still in progression"),
        (["pile", "show", "nope"], 2, "not found"),
        (["progression", "create", "order"], 2, "already exists"),
        (["progression", "create", "p2", "--pile", "nope"], 2, "pile 'nope' not found"),
        (["progression", "append", "order", n2], 2, "not found in pile 'notes'"),
        (["progression", "append", "order", n1], 2, "already in progression"),
        (["progression", "insert", "order", "7", n1], 2, "already in progression"),
        (["progression", "move", "order", n1, "5"], 2, "out of range"),
        (["progression", "remove", "order", n2], 2, "not found in progression"),
        (["progression", "show", "nope"], 2, "not found"),
        (["progression", "insert", "order", "x", n1], 2, "Invalid value"),
        (["run", _write(tmp, "cycle.toml", CYCLE.encode())], 2, "cycle"),
        (
            ["run", _write(tmp, "unknown.toml", UNKNOWN_TOOL.encode())],
            2,
            "unknown tool 'format_disk'",
        ),
        (
            ["run", _write(tmp, "typo.toml", TYPO.encode())],
            2,
            "argument 'text': '${steps.fetch.reslt}' is not a citation",
        ),
        (
            ["run", _write(tmp, "env.toml", TYPO.replace("steps.fetch.reslt", "HOME").encode())],
            2,
            "write $${ for a literal ${",
        ),
        (["run", _write(tmp, "bad.toml", b'name = "x"\n[[steps\n')], 2, "malformed TOML"),
        (["run", _write(tmp, "badwf.json", b'{"name": "x", "steps": [')], 2, "malformed JSON"),
        (
            ["run", _write(tmp, "dup.json", b'{"name": "a", "name": "b", "steps": []}')],
            2,
            "duplicate",
        ),
        (["run", _write(tmp, "bin.toml", b"\x00\xff\xfe garbage")], 2, "UTF-8"),
        (["run", _write(tmp, "empty.toml", b"")], 2, "invalid workflow"),
        (["run", _write(tmp, "wf.yaml", b"name: x")], 2, ".toml or .json"),
        (["run", "/nonexistent/wf.toml"], 2, "cannot read"),
        (["runs", "show", "nope"], 2, "run 'nope' not found"),
        (["branch", "create", "b"], 2, "already exists"),
        (["branch", "create", "c", "--provider", "gpt-99"], 2, "not configured"),
        (["branch", "chat", "nope", "hi"], 2, "branch 'nope' not found"),
        (["branch", "chat", "b", "   "], 2, "empty"),
        (["branch", "show", "nope"], 2, "not found"),
        (["--providers", "/nonexistent.toml", "branch", "create", "c"], 2, ""),
        (["events", "show", "--from", "0"], 2, "--from"),
        (["events", "show", "--from", "9" * 20], 2, "--from"),
        (["events", "show", "--to", "9" * 20], 2, "--to"),
        (["element", "frobnicate"], 2, "No such command"),
        (["element", "create"], 2, "Missing option"),
    ]


class TestHostileInput:
    """Each hostile invocation: a documented code, one line, nothing changed."""

    def test_every_case(self, ids: dict[str, str], home: Path, tmp_path: Path) -> None:
        """Every case in the table fails cleanly and leaves the replay digest unchanged."""
        before = digest(home)
        for args, code, phrase in cases(ids, tmp_path):
            outcome = invoke_in_process(home, args)
            assert_one_line_error(outcome, code)
            assert phrase in outcome.stderr, (args, outcome.stderr)
        assert digest(home) == before

    def test_debug_shows_the_traceback(self, ids: dict[str, str], home: Path) -> None:
        """With --debug, the error line comes with its traceback."""
        outcome = invoke_in_process(home, ["--debug", "element", "show", "zzzz"])
        assert outcome.code == 2
        assert "Traceback" in outcome.stderr
        assert outcome.stderr.strip().splitlines()[-1].startswith("error: ")


class TestBrokenStateDirectory:
    """A state directory that cannot be used is reported, not crashed on or changed."""

    def test_read_only_directory(self, sh: Run, home: Path) -> None:
        """A read-only state directory: exit 1, one line naming it, nothing written."""
        assert sh("element", "create", "-t", "Note", "-d", '{"text": "x"}').code == 0
        before = digest(home)
        files = {p.name: p.read_bytes() for p in home.iterdir()}
        home.chmod(0o555)
        immutable = False
        try:
            if os.access(home, os.W_OK):
                # root ignores permission bits; the immutable attribute binds root too.
                immutable = _chattr("+i", home)
            if os.access(home, os.W_OK):
                pytest.skip("cannot make a directory read-only for this user (root, no chattr)")
            outcome = sh("element", "create", "-t", "Note", "-d", '{"text": "y"}')
            assert_one_line_error(outcome, 1)
            assert "read-only" in outcome.stderr
            assert str(home) in outcome.stderr
            assert {p.name: p.read_bytes() for p in home.iterdir()} == files
        finally:
            if immutable:
                _chattr("-i", home)
            home.chmod(0o755)
        assert digest(home) == before

    def test_corrupted_record(self, sh: Run, home: Path) -> None:
        """A record whose payload is damaged: exit 1, one line naming its position."""
        assert sh("element", "create", "-t", "Note", "-d", '{"text": "x"}').code == 0
        db = sqlite3.connect(home / "events.db")
        try:
            with db:
                db.execute("UPDATE records SET payload = x'ff00' WHERE position = 2")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
        data = (home / "events.db").read_bytes()
        for args in (["element", "list"], ["replay"], ["events", "show"]):
            outcome = sh(*args)
            assert_one_line_error(outcome, 1)
            assert "position 2" in outcome.stderr
        assert (home / "events.db").read_bytes() == data

    def test_state_path_is_a_file(self, sh: Run, home: Path) -> None:
        """A state "directory" that is a file, or lies under one: exit 1, one line."""
        home.parent.mkdir(parents=True, exist_ok=True)
        home.write_bytes(b"not a directory")
        outcome = sh("element", "list")
        assert_one_line_error(outcome, 1)
        assert str(home) in outcome.stderr
        outcome = sh("--home", str(home / "below"), "pile", "list")
        assert_one_line_error(outcome, 1)
        assert home.read_bytes() == b"not a directory"

    @pytest.mark.parametrize(
        "damage",
        [
            pytest.param(lambda data: b"this is not a database at all" * 100, id="garbage"),
            pytest.param(lambda data: data[:100] + b"\x00" * (len(data) - 100), id="zeroed"),
            pytest.param(lambda data: data[: len(data) // 3], id="truncated"),
        ],
    )
    def test_corrupted_database(self, sh: Run, home: Path, damage: object) -> None:
        """A corrupted events.db: exit 1, one line naming the file, the file untouched."""
        for i in range(20):
            assert (
                invoke_in_process(
                    home, ["element", "create", "-t", "Note", "-d", f'{{"text": "{i}"}}']
                ).code
                == 0
            )
        database = home / "events.db"
        db = sqlite3.connect(database)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
        for extra in ("events.db-wal", "events.db-shm"):
            (home / extra).unlink(missing_ok=True)
        broken = damage(database.read_bytes())  # type: ignore[operator]
        database.write_bytes(broken)
        for args in (["replay"], ["element", "list"], ["status", "--json"]):
            outcome = sh(*args)
            assert_one_line_error(outcome, 1)
            assert "events.db" in outcome.stderr or "agentic" in outcome.stderr
        assert database.read_bytes() == broken
