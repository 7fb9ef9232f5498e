"""End-to-end: the installed agentic-cli, one subprocess per command, sharing a state
directory; then the same flows in-process for the rest of the commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.cli.conftest import Outcome, Run, assert_one_line_error

from agentic.kernel import replay
from agentic.store import open_store

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _ok(outcome: Outcome) -> Outcome:
    assert outcome.code == 0, outcome
    return outcome


class TestEndToEnd:
    """Separate invocations of the installed script see what earlier ones made."""

    def test_elements_pile_progression_run_events_replay(self, sh: Run) -> None:
        """Create elements, a pile and a progression, run a workflow, read its events, replay."""
        note = _ok(sh("element", "create", "--type", "Note", "--data", '{"text": "hi"}'))
        note_id = note.stdout.strip()
        task = _ok(sh("element", "create", "-t", "Task", "-d", '{"title": "ship", "priority": 2}'))
        task_id = task.stdout.strip()
        assert len(note_id) == 36
        assert len(task_id) == 36

        listed = _ok(sh("element", "list", "--json")).json()
        assert [e["id"] for e in listed] == [note_id, task_id]

        _ok(sh("pile", "create", "work"))
        _ok(sh("pile", "add", "work", note_id, task_id[:8]))
        _ok(sh("progression", "create", "plan", "--pile", "work"))
        _ok(sh("progression", "append", "plan", task_id, note_id))
        _ok(sh("progression", "move", "plan", note_id, "0"))
        shown = _ok(sh("progression", "show", "plan", "--json")).json()
        assert [e["id"] for e in shown["items"]] == [note_id, task_id]

        run = _ok(sh("run", str(EXAMPLES / "parallel.toml"), "--json")).json()
        assert run["status"] == "completed"
        assert [s["id"] for s in run["steps"]] == [
            "draft",
            "count",
            "keywords",
            "shout",
            "review",
            "digest",
        ]
        run_id = run["run_id"]

        events = _ok(sh("events", "show", "--correlation", run_id, "--json")).json()
        types = [e["type"] for e in events]
        assert types[0] == "run.started"
        assert types[-1] == "run.finished"
        assert types.count("step.finished") == 6
        again = _ok(sh("runs", "show", run_id[:6], "--json")).json()
        assert again == run

        first = _ok(sh("replay", "--json")).json()
        assert first["counts"]["elements"] == 2
        assert first["counts"]["runs"] == 1
        assert first["problems"] == []
        second = _ok(sh("replay", "--json")).json()
        assert second["digest"] == first["digest"]

    def test_run_shows_progress_and_summary(self, sh: Run) -> None:
        """`run` prints each finished step and a summary table with every step's status."""
        outcome = _ok(sh("run", str(EXAMPLES / "parallel.toml")))
        for step in ("draft", "count", "keywords", "shout", "review", "digest"):
            assert step in outcome.stdout
        assert "6/6" in outcome.stdout
        assert "completed" in outcome.stdout
        assert outcome.stderr == ""

    def test_linear_example_runs(self, sh: Run) -> None:
        """The linear JSON example runs to completion."""
        report = _ok(sh("run", str(EXAMPLES / "linear.json"), "--json")).json()
        assert report["status"] == "completed"
        assert report["steps"][-1]["result"]["words"] == 9

    def test_branch_conversation_continues_across_invocations(self, sh: Run) -> None:
        """A branch's messages are kept: the second chat sees the first."""
        _ok(sh("branch", "create", "pal", "--system", "Be brief."))
        _ok(sh("branch", "chat", "pal", "first words"))
        _ok(sh("branch", "chat", "pal", "second words"))
        shown = _ok(sh("branch", "show", "pal", "--json")).json()
        contents = [m.get("content") for m in shown["messages"]]
        assert contents[0] == "Be brief."
        assert "first words" in contents
        assert "second words" in contents
        assert shown["chats"] == 2

    def test_library_types_decode_across_invocations(self, sh: Run, home: Path) -> None:
        """Branch messages stored by one invocation decode in later ones; replay agrees."""
        message = _ok(sh("element", "create", "--type", "UserMessage", "-d", '{"content": "hi"}'))
        message_id = message.stdout.strip()
        _ok(sh("pile", "create", "msgs", "--type", "UserMessage"))
        _ok(sh("pile", "add", "msgs", message_id))
        _ok(sh("branch", "create", "pal"))
        _ok(sh("branch", "chat", "pal", "hello"))
        listed = _ok(sh("element", "list", "--json")).json()
        assert [(e["id"], e["$type"]) for e in listed] == [(message_id, "UserMessage")]
        shown = _ok(sh("pile", "show", "msgs", "--json")).json()
        assert [e["id"] for e in shown["items"]] == [message_id]
        assert "1" in _ok(sh("pile", "list")).stdout
        first = _ok(sh("replay", "--json")).json()
        second = _ok(sh("replay", "--json")).json()
        assert first["problems"] == []
        assert first["counts"]["messages"] == 2
        assert second["digest"] == first["digest"]
        store = open_store(home)
        try:
            assert replay(store).digest == first["digest"]
        finally:
            store.close()

    def test_help_and_version(self, sh: Run) -> None:
        """`--help` lists the command groups; `--version` prints one line."""
        text = _ok(sh("--help")).stdout
        for group in ("element", "pile", "progression", "run", "runs", "branch", "events"):
            assert group in text
        assert _ok(sh("--version")).stdout.startswith("agentic-cli ")


class TestCommands:
    """Each command, in-process, with --json and with tables."""

    def test_element_show_and_types(self, cli: Run) -> None:
        """`element show` prints the fields; `element types` lists the built-in types."""
        eid = _ok(cli("element", "create", "-t", "Document", "-d", '{"title": "T", "body": "B"}'))
        doc = _ok(cli("element", "show", eid.stdout.strip(), "--json")).json()
        assert doc["title"] == "T"
        assert doc["$type"] == "agentic.Document"
        table = _ok(cli("element", "show", eid.stdout.strip())).stdout
        assert "title" in table
        types = [t["type"] for t in _ok(cli("element", "types", "--json")).json()]
        assert {"agentic.Note", "agentic.Task", "agentic.Document"} <= set(types)

    def test_data_from_file_and_stdin(self, cli: Run, tmp_path: Path) -> None:
        """`--data @file` and `--data @-` read the document from a file or stdin."""
        path = tmp_path / "note.json"
        path.write_text('{"text": "from a file"}')
        _ok(cli("element", "create", "-t", "Note", "-d", f"@{path}"))
        _ok(cli("element", "create", "-t", "Note", "-d", "@-", stdin=b'{"text": "stdin"}'))
        texts = [e["text"] for e in _ok(cli("element", "list", "--type", "Note", "--json")).json()]
        assert texts == ["from a file", "stdin"]

    def test_list_filters_by_type(self, cli: Run) -> None:
        """`element list --type` keeps only that type."""
        _ok(cli("element", "create", "-t", "Note", "-d", '{"text": "a"}'))
        _ok(cli("element", "create", "-t", "Task", "-d", '{"title": "b"}'))
        assert len(_ok(cli("element", "list", "--type", "Task", "--json")).json()) == 1
        assert "2 element(s)" in _ok(cli("element", "list")).stdout

    def test_pile_commands(self, cli: Run) -> None:
        """A typed pile takes its type, refuses others, shows and lists its items."""
        note = _ok(cli("element", "create", "-t", "Note", "-d", '{"text": "a"}')).stdout.strip()
        task = _ok(cli("element", "create", "-t", "Task", "-d", '{"title": "b"}')).stdout.strip()
        _ok(cli("pile", "create", "notes", "--type", "Note"))
        added = _ok(cli("pile", "add", "notes", note, "--json")).json()
        assert added["added"] == [note]
        assert _ok(cli("pile", "add", "notes", note, "--json")).json()["added"] == []
        refused = cli("pile", "add", "notes", task)
        assert_one_line_error(refused, 2)
        assert "pile 'notes'" in refused.stderr
        assert [p["name"] for p in _ok(cli("pile", "list", "--json")).json()] == ["notes"]
        assert note in _ok(cli("pile", "show", "notes")).stdout
        _ok(cli("pile", "remove", "notes", note))
        assert _ok(cli("pile", "show", "notes", "--json")).json()["items"] == []

    def test_progression_commands(self, cli: Run) -> None:
        """append, insert, move and remove keep the order a user asked for."""
        ids = [
            _ok(cli("element", "create", "-t", "Note", "-d", f'{{"text": "{i}"}}')).stdout.strip()
            for i in range(4)
        ]
        _ok(cli("progression", "create", "p"))
        _ok(cli("progression", "append", "p", ids[0], ids[1]))
        _ok(cli("progression", "insert", "p", "0", ids[2]))
        _ok(cli("progression", "move", "p", ids[0], "2"))
        _ok(cli("progression", "append", "p", ids[3]))
        _ok(cli("progression", "remove", "p", ids[1]))
        items = _ok(cli("progression", "show", "p", "--json")).json()["items"]
        assert [e["id"] for e in items] == [ids[2], ids[0], ids[3]]
        listed = _ok(cli("progression", "list", "--json")).json()
        assert listed == [{"name": "p", "pile": None, "size": 3}]

    def test_progression_bound_to_pile(self, cli: Run) -> None:
        """A bound progression takes only ids in its pile; the pile keeps ordered ids."""
        a = _ok(cli("element", "create", "-t", "Note", "-d", '{"text": "a"}')).stdout.strip()
        b = _ok(cli("element", "create", "-t", "Note", "-d", '{"text": "b"}')).stdout.strip()
        _ok(cli("pile", "create", "box"))
        _ok(cli("pile", "add", "box", a))
        _ok(cli("progression", "create", "order", "--pile", "box"))
        missing = cli("progression", "append", "order", b)
        assert_one_line_error(missing, 2)
        assert "not found in pile 'box'" in missing.stderr
        _ok(cli("progression", "append", "order", a))
        held = cli("pile", "remove", "box", a)
        assert_one_line_error(held, 2)
        assert "progression 'order'" in held.stderr

    def test_runs_list_and_show_tables(self, cli: Run) -> None:
        """`runs list` and `runs show` render recorded runs as tables."""
        _ok(cli("run", str(EXAMPLES / "linear.json")))
        listing = _ok(cli("runs", "list")).stdout
        assert "linear-notes" in listing
        run_id = _ok(cli("runs", "list", "--json")).json()[0]["run_id"]
        assert "word_count" in _ok(cli("runs", "show", run_id)).stdout

    def test_failed_step_exits_1(self, cli: Run, tmp_path: Path) -> None:
        """A workflow whose step fails is recorded, and the exit code is 1."""
        path = tmp_path / "fails.toml"
        path.write_text(
            'name = "fails"\n[[steps]]\nid = "a"\ntool = "add"\nargs = { a = 1 }\n'
            '[[steps]]\nid = "b"\ntool = "echo"\nargs = { text = "x" }\ndepends_on = ["a"]\n'
        )
        outcome = cli("run", str(path), "--json")
        assert outcome.code == 1
        report = outcome.json()
        assert [s["status"] for s in report["steps"]] == ["failed", "skipped"]
        runs = _ok(cli("runs", "list", "--json")).json()
        assert runs[0]["status"] == "failed"

    def test_events_tail_and_filters(self, cli: Run) -> None:
        """`events tail` keeps the last N; filters narrow by stream and type."""
        for i in range(3):
            _ok(cli("element", "create", "-t", "Note", "-d", f'{{"text": "{i}"}}'))
        tail = _ok(cli("events", "tail", "-n", "2", "--json")).json()
        assert len(tail) == 2
        assert tail[-1]["type"] == "pile.include"
        only = _ok(
            cli("events", "show", "--stream", "elements", "--type", "pile.include", "--json")
        )
        assert len(only.json()) == 3
        assert "pile.include" in _ok(cli("events", "show")).stdout

    def test_events_follow_stops_after_for(self, cli: Run) -> None:
        """`events tail --follow --for S` prints what exists and returns after S seconds."""
        _ok(cli("element", "create", "-t", "Note", "-d", '{"text": "x"}'))
        outcome = _ok(cli("events", "tail", "--follow", "--for", "0.2", "--json"))
        lines = [json.loads(line) for line in outcome.stdout.splitlines()]
        assert lines[-1]["type"] == "pile.include"

    def test_status_reports_counts_and_actor_health(self, cli: Run) -> None:
        """`status` reports the store's counts and a healthy probe runtime."""
        _ok(cli("element", "create", "-t", "Note", "-d", '{"text": "x"}'))
        status = _ok(cli("status", "--json")).json()
        assert status["counts"]["elements"] == 1
        assert status["healthy"] is True
        assert status["actors"][0]["name"] == "probe"
        assert "probe" in _ok(cli("status")).stdout

    def test_global_json_flag(self, cli: Run) -> None:
        """`--json` before the command works for every command."""
        assert _ok(cli("--json", "pile", "list")).json() == []

    def test_replay_table(self, cli: Run) -> None:
        """`replay` prints counts and the digest."""
        assert "digest" in _ok(cli("replay")).stdout

    def test_demo_still_works(self, cli: Run) -> None:
        """`agentic-cli demo` stays."""
        assert "identical" in _ok(cli("demo", "--count", "3")).stdout
        shown = _ok(cli("demo", "--count", "3", "--json")).json()
        assert shown["round_trip_identical"] is True
        assert shown["squares"] == {"0": 0, "1": 1, "2": 4}

    @pytest.mark.parametrize(
        "group", ["element", "pile", "progression", "runs", "branch", "events"]
    )
    def test_group_without_command_shows_help(self, cli: Run, group: str) -> None:
        """A group with no command prints its help."""
        outcome = cli(group)
        assert "Usage" in outcome.stdout + outcome.stderr


class TestExamples:
    """Every example workflow runs offline; `failing.toml` fails the way it says."""

    @pytest.mark.parametrize(
        "path",
        sorted(
            p
            for p in EXAMPLES.iterdir()
            if p.suffix in {".toml", ".json"} and "steps" in p.read_text()
        ),
        ids=lambda p: p.name,
    )
    def test_example_workflow(self, cli: Run, path: Path) -> None:
        """The example runs to completion (or, for failing.toml, to exit code 1)."""
        outcome = cli("run", str(path), "--json")
        expected = 1 if path.stem == "failing" else 0
        assert outcome.code == expected, outcome
        statuses = {s["id"]: s["status"] for s in outcome.json()["steps"]}
        if expected:
            assert statuses == {"sum": "failed", "report": "skipped", "independent": "completed"}
        else:
            assert set(statuses.values()) == {"completed"}

    @pytest.mark.parametrize(("kind", "name"), [("Task", "task.json"), ("Note", "note.json")])
    def test_example_element(self, cli: Run, kind: str, name: str) -> None:
        """The example element documents are valid `--data @file` input."""
        assert _ok(cli("element", "create", "-t", kind, "-d", f"@{EXAMPLES / name}")).stdout


class TestInterruptedRun:
    """A run cut short (no `run.finished`) is listed as incomplete and can be shown."""

    def test_incomplete_run(self, cli: Run, home: Path) -> None:
        """The steps that finished are shown; the run is reported as failed."""
        from agentic.store import NewRecord, open_store

        report = _ok(cli("run", str(EXAMPLES / "linear.json"), "--json")).json()
        store = open_store(home)
        try:
            records = list(store.read(f"run-{report['run_id']}"))
            kept = [r for r in records if r.type != "run.finished"][:2]  # started + 1 step
            store.append("run-cut", [NewRecord(r.type, r.payload) for r in kept])
        finally:
            store.close()
        runs = {r["run_id"]: r for r in _ok(cli("runs", "list", "--json")).json()}
        assert runs["cut"]["status"] == "incomplete"
        assert runs["cut"]["finished_steps"] == 1
        shown = _ok(cli("runs", "show", "cut", "--json")).json()
        assert shown["status"] == "failed"
        assert [s["id"] for s in shown["steps"]] == ["note"]
        assert "note" in _ok(cli("runs", "show", "cut")).stdout


class TestFollow:
    """`events tail --follow` prints what other processes append, as they append it."""

    def test_follow_sees_another_process(self, sh: Run, home: Path) -> None:
        """A record appended by a second invocation reaches the follower."""
        from tests.cli.conftest import cli_command

        _ok(sh("pile", "create", "first"))  # the store exists before the follower starts
        env = dict(os.environ, AGENTIC_HOME=str(home))
        with subprocess.Popen(
            [*cli_command(), "events", "tail", "-n", "50", "--follow", "--for", "30", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        ) as follower:
            try:
                made = _ok(sh("element", "create", "-t", "Note", "-d", '{"text": "live"}'))
                assert follower.stdout is not None
                seen = []
                for line in follower.stdout:
                    record = json.loads(line)
                    seen.append(record)
                    if record["type"] == "pile.include":
                        break
                assert seen[-1]["type"] == "pile.include"
                assert seen[-1]["payload"]["items"][0]["id"] == made.stdout.strip()
            finally:
                follower.terminate()


_LOADED = """
import json, sys
from agentic.cli import app
code = app(sys.argv[1:], standalone_mode=False)
heavy = ["structlog", "agentic.actors", "agentic.branches", "agentic.providers", "agentic.tools"]
sys.stderr.write(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
"""


class TestStartUp:
    """State commands start without the runtime; commands that need it still get it."""

    def _loaded(self, home: Path, *args: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-c", _LOADED, *args],
            capture_output=True,
            text=True,
            env={**os.environ, "AGENTIC_HOME": str(home)},
            timeout=60,
            check=False,
        )
        return json.loads(done.stderr)

    @pytest.mark.parametrize(
        "args", [["pile", "list"], ["element", "list", "--json"], ["progression", "list"]]
    )
    def test_state_commands_load_no_runtime(self, home: Path, args: list[str]) -> None:
        """A trivial state command imports neither structlog nor the actor runtime."""
        assert self._loaded(home, *args) == {"code": 0, "loaded": []}

    def test_runtime_commands_load_it(self, home: Path) -> None:
        """`run` loads the runtime and structlog (configured before anything logs)."""
        seen = self._loaded(home, "run", str(EXAMPLES / "linear.json"), "--json")
        assert seen == {
            "code": 0,
            "loaded": [
                "structlog",
                "agentic.actors",
                "agentic.branches",
                "agentic.providers",
                "agentic.tools",
            ],
        }

    def test_loading_library_types_logs_nothing(self, sh: Run) -> None:
        """`element types` (which loads every library type) writes only its table."""
        outcome = _ok(sh("element", "types", "--json"))
        assert outcome.stderr == ""
        assert {"UserMessage", "PlanStep", "Call", "agentic.Note"} <= {
            t["type"] for t in outcome.json()
        }


class TestStateLocation:
    """Where the state lives: --home, else $AGENTIC_HOME, else ./.agentic."""

    def test_home_option_and_default(
        self, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """--home wins over $AGENTIC_HOME; without either, ./.agentic is used."""
        from tests.cli.conftest import invoke_in_process

        other = tmp_path / "other"
        made = invoke_in_process(home, ["--home", str(other), "pile", "create", "p"])
        assert made.code == 0, made
        assert (other / "events.db").exists()
        assert not home.exists()
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("AGENTIC_HOME", raising=False)
        from agentic.cli._context import SETTINGS
        from agentic.cli._context import home as resolve

        SETTINGS.reset()
        assert resolve() == tmp_path / ".agentic"

    def test_a_tilde_in_home_and_providers_means_the_user_home(
        self, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`--home=~/x` (no shell expands that `~`) is ~/x, not a directory named '~'."""
        from tests.cli.conftest import invoke_in_process

        monkeypatch.setenv("HOME", str(tmp_path / "user"))
        monkeypatch.chdir(tmp_path)
        (tmp_path / "user").mkdir()
        (tmp_path / "user" / "p.toml").write_text('[providers.mine]\nkind = "offline"\n')
        made = invoke_in_process(home, ["--home=~/state", "pile", "create", "p"])
        assert made.code == 0, made
        assert (tmp_path / "user" / "state" / "events.db").exists()
        assert not (tmp_path / "~").exists()
        assert invoke_in_process(home, ["--home=~/state", "branch", "create", "b"]).code == 0
        chat = invoke_in_process(
            home, ["--home=~/state", "--providers=~/p.toml", "branch", "chat", "b", "hi", "--json"]
        )
        assert chat.code == 0, chat
        assert chat.json()["content"] == "hi"


class TestLogging:
    """structlog is configured by the CLI: quiet by default, info with --verbose."""

    def test_quiet_by_default_verbose_on_request(self, cli: Run) -> None:
        """A clean run logs nothing; --verbose logs each step's event at info on stderr."""
        quiet = _ok(cli("run", str(EXAMPLES / "linear.json"), "--json"))
        assert quiet.stderr == ""
        loud = _ok(cli("--verbose", "run", str(EXAMPLES / "linear.json"), "--json"))
        assert loud.stderr.count("event.finished") == 3
        assert json.loads(loud.stdout)["status"] == "completed"  # stdout stays one document


PROVIDERS = """
[providers.scripted]
kind = "offline"
replies = ["first scripted answer", "second scripted answer"]
"""


class TestProviders:
    """Chats use the offline provider unless a provider config says otherwise."""

    def test_providers_option_and_home_file(self, cli: Run, home: Path, tmp_path: Path) -> None:
        """--providers FILE, then <home>/providers.toml, configure the branch's provider."""
        config = tmp_path / "providers.toml"
        config.write_text(PROVIDERS)
        _ok(cli("--providers", str(config), "branch", "create", "s", "--provider", "scripted"))
        first = _ok(cli("--providers", str(config), "branch", "chat", "s", "hi"))
        assert first.stdout.strip() == "first scripted answer"
        missing = cli("branch", "chat", "s", "again")
        assert_one_line_error(missing, 2)
        assert "provider 'scripted'" in missing.stderr
        (home / "providers.toml").write_text(PROVIDERS)
        second = _ok(cli("branch", "chat", "s", "again", "--json")).json()
        assert second["content"] == "second scripted answer"
        assert _ok(cli("branch", "list", "--json")).json()[0]["chats"] == 2

    def test_default_is_offline(self, cli: Run) -> None:
        """With no config, the offline provider answers (it echoes)."""
        _ok(cli("branch", "create", "plain"))
        assert _ok(cli("branch", "chat", "plain", "echo me")).stdout.strip() == "echo me"
        assert "plain" in _ok(cli("branch", "list")).stdout
        assert "echo me" in _ok(cli("branch", "show", "plain")).stdout
