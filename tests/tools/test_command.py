"""Tests for run_command: no shell, a timeout, an output cap, and a policy gate."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from agentic.execution import Call, Executor, Policy, Rule, default_chain
from agentic.primitives import EventStatus
from agentic.tools import CommandTimeoutError, ToolError, ToolRegistry, command_tool

ALLOW = Policy(rules=[Rule(name="ops may run commands", effect="allow", targets=["run_command"])])


def run(coro):
    return asyncio.run(coro)


def invoke(tool, **arguments):
    return run(tool.invoke(tool.validate(arguments)))


class TestRunCommand:
    def test_arguments_are_not_interpreted_by_a_shell(self, tmp_path):
        """Shell syntax in an argument is passed through literally."""
        out = invoke(command_tool(tmp_path), argv=["echo", "$HOME; rm -rf / `id`"])
        assert out["exit_code"] == 0
        assert out["stdout"] == "$HOME; rm -rf / `id`\n"
        assert out["truncated"] is False

    def test_runs_in_the_working_directory(self, tmp_path):
        """The command runs in the configured directory."""
        out = invoke(
            command_tool(tmp_path), argv=[sys.executable, "-c", "import os; print(os.getcwd())"]
        )
        assert out["stdout"].strip() == str(tmp_path)

    def test_exit_code_and_stderr(self, tmp_path):
        """A failing command reports its exit code and stderr (it is not an error)."""
        out = invoke(
            command_tool(tmp_path),
            argv=[sys.executable, "-c", "import sys; sys.stderr.write('bad'); sys.exit(3)"],
        )
        assert (out["exit_code"], out["stderr"]) == (3, "bad")

    def test_timeout_kills_the_command(self, tmp_path):
        """A command past its timeout is killed and reported as a timeout."""
        with pytest.raises(CommandTimeoutError, match=r"longer than 0\.2s"):
            invoke(command_tool(tmp_path, timeout=5), argv=["sleep", "10"], timeout_seconds=0.2)

    def test_output_flood_is_capped_and_killed(self, tmp_path):
        """Output beyond the cap is cut, the command killed, and truncated is set."""
        out = invoke(command_tool(tmp_path, max_output_bytes=1000), argv=["yes"])
        assert out["truncated"] is True
        assert len(out["stdout"]) == 1000
        assert out["exit_code"] != 0

    def test_a_cap_inside_a_character_shows_no_character_that_is_not_there(self, tmp_path):
        """Output cut inside a multi-byte character drops it rather than inventing U+FFFD."""
        script = "import sys; sys.stdout.write('é' * 100_000); sys.stderr.write('done é')"
        out = invoke(
            command_tool(tmp_path, max_output_bytes=1001), argv=[sys.executable, "-c", script]
        )
        assert out["truncated"] is True
        assert out["stdout"] == "é" * 500  # 1,000 bytes: the 1,001st is half an é
        assert out["stderr"] in ("", "done é")  # whole, if it was written before the kill

    def test_output_within_the_cap_is_returned_whole(self, tmp_path):
        """Output under max_output_bytes comes back whole, even past the default result size."""
        script = "import sys; sys.stdout.write('o' * 600_000); sys.stderr.write('\\x01' * 600_000)"
        tool = command_tool(tmp_path, max_output_bytes=700_000)
        out = invoke(tool, argv=[sys.executable, "-c", script])
        assert (out["exit_code"], out["truncated"]) == (0, False)
        assert out["stdout"] == "o" * 600_000
        assert out["stderr"] == "\x01" * 600_000  # 3.6 MB as JSON ("\u0001" each)

    def test_missing_program(self, tmp_path):
        """An unknown program fails with a ToolError naming it."""
        with pytest.raises(ToolError, match="cannot run 'no-such-program-xyz'"):
            invoke(command_tool(tmp_path), argv=["no-such-program-xyz"])

    def test_missing_working_directory_is_named(self, tmp_path):
        """A missing working directory fails with a ToolError naming it, not the program."""
        gone = tmp_path / "gone"
        with pytest.raises(ToolError, match="working directory") as info:
            invoke(command_tool(gone), argv=["echo", "hi"])
        assert str(gone) in str(info.value)

    def test_nul_byte_in_an_argument_is_a_tool_error(self, tmp_path):
        """An argument with a NUL byte fails with a ToolError naming it (not a bare ValueError)."""
        with pytest.raises(ToolError, match=r"argv\[1\].*NUL"):
            invoke(command_tool(tmp_path), argv=["echo", "a\x00b"])

    def test_secret_looking_variables_are_not_inherited(self, tmp_path, monkeypatch):
        """By default the command does not see API keys or tokens from the process environment."""
        monkeypatch.setenv("AGENTIC_TEST_API_KEY", "sk-should-not-leak")
        monkeypatch.setenv("AGENTIC_TEST_TOKEN", "tok-should-not-leak")
        monkeypatch.setenv("AGENTIC_TEST_PLAIN", "visible")
        out = invoke(command_tool(tmp_path), argv=["env"])
        assert "should-not-leak" not in out["stdout"]
        assert "AGENTIC_TEST_PLAIN=visible" in out["stdout"]
        assert "PATH=" in out["stdout"]

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("AGENTIC_TEST_AZURE_OPENAI_KEY", "azk-should-not-leak"),
            ("AGENTIC_TEST_SIGNING_KEY", "sig-should-not-leak"),
            ("AGENTIC_TEST_MYSQL_PWD", "pw-should-not-leak"),
            ("AGENTIC_TEST_SENTRY_DSN", "https://should-not-leak@o1.ingest.example.io/1"),
            ("AGENTIC_TEST_DATABASE_URL", "postgresql://app:pw-should-not-leak@db:5432/app"),
            ("AGENTIC_TEST_CACHE", "redis://:pw-should-not-leak@cache:6379/0"),
        ],
        ids=["key", "signing-key", "pwd", "dsn", "url-password", "url-password-only"],
    )
    def test_keys_and_credentials_in_urls_are_not_inherited(
        self, tmp_path, monkeypatch, name, value
    ):
        """Variables named *_KEY, *_PWD or *_DSN, and URLs with a password, are not inherited."""
        monkeypatch.setenv(name, value)
        monkeypatch.setenv("AGENTIC_TEST_KEYBOARD", "us")
        monkeypatch.setenv("AGENTIC_TEST_SITE", "https://example.com/a:b@c")
        out = invoke(command_tool(tmp_path), argv=["env"])
        assert "should-not-leak" not in out["stdout"]
        assert "AGENTIC_TEST_KEYBOARD=us" in out["stdout"]
        assert "AGENTIC_TEST_SITE=https://example.com/a:b@c" in out["stdout"]
        assert "PATH=" in out["stdout"]

    def test_an_explicit_environment_is_passed_as_given(self, tmp_path):
        """An env given to the tool is used as is, secrets included (the caller chose them)."""
        out = invoke(command_tool(tmp_path, env={"MY_TOKEN": "t"}), argv=["/usr/bin/env"])
        assert out["stdout"] == "MY_TOKEN=t\n"

    def test_empty_argv(self, tmp_path):
        """An empty argv is refused."""
        with pytest.raises(ToolError, match="non-empty argv"):
            invoke(command_tool(tmp_path), argv=[])

    def test_argv_must_be_a_list_of_strings(self, tmp_path):
        """A command line string is not an argv."""
        tool = command_tool(tmp_path)
        with pytest.raises(Exception, match="argv: Input should be a valid list"):
            tool.validate({"argv": "rm -rf /"})


class TestPolicyGate:
    def test_disabled_unless_a_policy_names_it(self, tmp_path):
        """The default chain denies run_command; a rule naming it allows it."""
        registry = ToolRegistry([command_tool(tmp_path)])

        async def main(policy):
            ex = Executor(registry, default_chain(policy=policy))
            return await ex.submit(Call(target="run_command", arguments={"argv": ["echo", "hi"]}))

        denied = run(main(None))
        assert denied.status is EventStatus.DENIED
        assert "guarded" in (denied.execution.reason or "")
        wildcard = run(main(Policy(rules=[Rule(effect="allow", targets=["*"])])))
        assert wildcard.status is EventStatus.DENIED
        allowed = run(main(ALLOW))
        assert allowed.status is EventStatus.COMPLETED
        assert allowed.execution.response["stdout"] == "hi\n"

    def test_chain_timeout_cancels_and_kills(self, tmp_path):
        """When the chain's timeout cancels run_command, the process is killed."""
        marker = tmp_path / "done"
        registry = ToolRegistry([command_tool(tmp_path, timeout=30)])
        script = (
            f"import time, pathlib; time.sleep(1.0); pathlib.Path({str(marker)!r}).write_text('x')"
        )

        async def main():
            ex = Executor(registry, default_chain(policy=ALLOW, timeout=0.2))
            event = await ex.submit(
                Call(target="run_command", arguments={"argv": [sys.executable, "-c", script]})
            )
            await asyncio.sleep(1.3)
            return event

        event = run(main())
        assert event.status is EventStatus.FAILED
        assert event.execution.error.type == "agentic.execution.InvocationTimeoutError"  # type: ignore[union-attr]
        assert not marker.exists()

    def test_executor_keeps_serving_after_a_flood(self, tmp_path):
        """After a flooding command, the executor still runs the next Call."""
        registry = ToolRegistry([command_tool(tmp_path, max_output_bytes=100)])

        async def main():
            ex = Executor(registry, default_chain(policy=ALLOW))
            flood = await ex.submit(Call(target="run_command", arguments={"argv": ["yes"]}))
            after = await ex.submit(Call(target="run_command", arguments={"argv": ["echo", "ok"]}))
            return flood, after

        flood, after = run(main())
        assert flood.status is EventStatus.COMPLETED, flood.execution.error
        assert flood.execution.response["truncated"] is True
        assert after.execution.response["stdout"] == "ok\n"


class TestProcessGroup:
    def test_timeout_kills_children_left_behind_by_an_exited_leader(self, tmp_path):
        """A timeout kills the whole group even after the leader exited, and returns promptly."""
        marker = tmp_path / "orphan.pid"
        script = f"sleep 60 & echo $! > {marker}; exit 0"
        started = time.monotonic()
        with pytest.raises(CommandTimeoutError):
            invoke(command_tool(tmp_path, timeout=0.5), argv=["sh", "-c", script])
        # A liveness bound, not a speed claim: unfixed, the call waits out the orphan's 60 s.
        assert time.monotonic() - started < 30
        # SIGKILL has been sent; the orphan closes its pipes a moment before it turns zombie.
        pid = int(marker.read_text())
        deadline = time.monotonic() + 10
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not _running(pid)


class TestNothingOutlivesTheCall:
    def test_a_background_child_is_killed_when_the_command_ends(self, tmp_path):
        """A child backgrounded with its output redirected does not outlive a successful call."""
        script = "sleep 60 >/dev/null 2>&1 & echo $!"
        out = invoke(command_tool(tmp_path, timeout=30), argv=["sh", "-c", script])
        assert out["exit_code"] == 0
        pid = int(out["stdout"])
        try:
            deadline = time.monotonic() + 10  # SIGKILL was sent; allow the kernel a moment
            while _running(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert not _running(pid)  # unfixed: it sleeps on for 60 s after the call
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie awaiting its reaper is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# A grandchild that leaves the command's session (setsid) keeps its stdout and
# stderr, so the pipes stay open however the group is killed. It writes its pid and
# then waits for the test to kill it.
_ESCAPE = """
import os, sys, time
if os.fork() == 0:
    os.setsid()
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    while True:
        time.sleep(1)
print("leader done", flush=True)
"""


async def _appears(path: Path) -> None:
    """Wait (at most 20 s) until `path` exists."""
    for _ in range(2000):
        if path.exists():  # noqa: ASYNC240 - one stat, polled in a test
            return
        await asyncio.sleep(0.01)
    msg = f"{path} did not appear"
    raise AssertionError(msg)


class TestEscapedDescendants:
    """A process that left the group keeps the pipes open; the call must still end."""

    @pytest.fixture
    def escapee(self, tmp_path):
        """The pid file of the escaped grandchild, killed when the test ends."""
        marker = tmp_path / "escaped.pid"
        yield marker
        if marker.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(marker.read_text()), signal.SIGKILL)

    def test_timeout_returns_while_an_escaped_grandchild_holds_the_pipes(self, tmp_path, escapee):
        """The timeout ends the call although a process outside the group still holds its pipes."""
        tool = command_tool(tmp_path, timeout=0.5)
        argv = [sys.executable, "-c", _ESCAPE, str(escapee)]

        async def main():
            # A liveness bound only: unfixed, the call waits for the grandchild forever.
            return await asyncio.wait_for(tool.invoke(tool.validate({"argv": argv})), 20)

        with pytest.raises(CommandTimeoutError, match=r"longer than 0\.5s"):
            run(main())
        assert _running(int(escapee.read_text()))  # it ended while the holder lives on

    def test_cancel_returns_while_an_escaped_grandchild_holds_the_pipes(self, tmp_path, escapee):
        """Cancelling the call ends it although a process outside the group holds its pipes."""
        tool = command_tool(tmp_path, timeout=120)
        argv = [sys.executable, "-c", _ESCAPE, str(escapee)]

        async def main():
            task = asyncio.ensure_future(tool.invoke(tool.validate({"argv": argv})))
            await _appears(escapee)
            task.cancel()
            done, _ = await asyncio.wait([task], timeout=20)  # liveness bound only
            return done

        done = run(main())
        assert len(done) == 1
        assert next(iter(done)).cancelled()
        assert _running(int(escapee.read_text()))

    def test_executor_stop_is_not_held_by_an_escaped_grandchild(self, tmp_path, escapee):
        """Executor.stop(cancel_pending=True) ends a command whose pipes a stray process holds."""
        registry = ToolRegistry([command_tool(tmp_path, timeout=120)])
        argv = [sys.executable, "-c", _ESCAPE, str(escapee)]

        async def main():
            ex = Executor(registry, default_chain(policy=ALLOW, timeout=None))
            task = ex.start_soon(Call(target="run_command", arguments={"argv": argv}))
            await _appears(escapee)
            await asyncio.wait_for(ex.stop(cancel_pending=True), 20)  # liveness bound only
            return await task

        event = run(main())
        assert event.status is EventStatus.CANCELLED
        assert _running(int(escapee.read_text()))
