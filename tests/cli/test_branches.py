"""`agentic-cli branch`: conversations shared by concurrent invocations."""

from __future__ import annotations

import os
import pty
import subprocess
import time
from pathlib import Path

from tests.cli.conftest import Run, _env, cli_command

# An offline provider that takes a while for "wait N": it calls the sleep tool first.
SLOW = """default = "slow"
[providers.slow]
kind = "offline"
[[providers.slow.rules]]
pattern = 'wait (\\d+)'
tool = "sleep"
arguments = { seconds = "{1}" }
"""


class TestConcurrentChats:
    """Two chats on one branch at once: both answered and recorded, one after the other."""

    def test_a_chat_overtaken_by_another_runs_again(self, sh: Run, home: Path) -> None:
        """The slow chat is run again on the fresh conversation instead of failing."""
        home.mkdir()
        (home / "providers.toml").write_text(SLOW)
        assert sh("branch", "create", "b").code == 0
        with subprocess.Popen(
            [*cli_command(), "branch", "chat", "b", "wait 3"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(home),
        ) as slow:
            time.sleep(1.2)  # the slow chat has (usually) read the conversation and waits
            fast = sh("branch", "chat", "b", "hello")
            out, err = slow.communicate(timeout=60)
        assert fast.code == 0, fast
        assert slow.returncode == 0, err.decode()
        assert out.decode().strip() != ""
        shown = sh("branch", "show", "b", "--json").json()
        assert shown["chats"] == 2
        users = [m["content"] for m in shown["messages"] if m["$type"].endswith("UserMessage")]
        # Overtaken, the slow chat ran again after the fast one; on a machine so loaded
        # that the fast one started only after the slow one was recorded, they did not
        # overlap. Either way the conversation is one line, each chat whole.
        assert users in (["hello", "wait 3"], ["wait 3", "hello"])
        roles = [m["$type"].rsplit(".", 1)[-1] for m in shown["messages"]]
        at = next(i for i, m in enumerate(shown["messages"]) if m.get("content") == "hello")
        assert at in (0, len(roles) - 2)  # the fast chat's two messages: first or last
        assert roles[at + 1] == "AssistantMessage"
        assert roles[-1] == "AssistantMessage"


ECHO = """default = "tools"
[providers.tools]
kind = "offline"
[[providers.tools.rules]]
pattern = 'repeat (\\w+)'
tool = "echo"
arguments = { text = "{1}" }
"""


def on_a_terminal(home: Path, *args: str) -> str:
    """Run the installed CLI with stdout on a pseudo-terminal; return what it showed."""
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [*cli_command(), *args], stdout=follower, stderr=subprocess.PIPE, env=_env(home)
    ) as process:
        os.close(follower)
        shown = b""
        while True:
            try:
                piece = os.read(leader, 1024)
            except OSError:  # the child closed the terminal
                break
            if not piece:
                break
            shown += piece
        assert process.wait(60) == 0
        assert process.stderr is not None
        assert process.stderr.read() == b""
    os.close(leader)
    return shown.decode().replace("\r\n", "\n")


class TestOnATerminal:
    """On a terminal `branch chat` prints the reply as it streams, and records it."""

    def test_the_reply_streams_to_a_terminal(self, sh: Run, home: Path) -> None:
        """Under a pseudo-terminal the reply appears (on its own line) and is recorded."""
        assert sh("branch", "create", "b").code == 0
        shown = on_a_terminal(home, "branch", "chat", "b", "streams arrive word by word")
        assert shown == "streams arrive word by word\n"
        recorded = sh("branch", "show", "b", "--json").json()
        contents = [message["content"] for message in recorded["messages"]]
        assert contents == ["streams arrive word by word"] * 2

    def test_tool_use_shows_on_its_own_lines(self, sh: Run, home: Path) -> None:
        """A tool call and its result are shown as they happen, then the answer."""
        home.mkdir()
        (home / "providers.toml").write_text(ECHO)
        assert sh("branch", "create", "b").code == 0
        shown = on_a_terminal(home, "branch", "chat", "b", "repeat hello")
        assert shown.splitlines() == ["[echo(text='hello')]", "[echo → hello]", "echo: hello"]
