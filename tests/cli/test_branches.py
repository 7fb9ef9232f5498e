"""`agentic-cli branch`: conversations shared by concurrent invocations."""

from __future__ import annotations

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
            time.sleep(1.5)  # the slow chat has read the conversation and is waiting
            fast = sh("branch", "chat", "b", "hello")
            out, err = slow.communicate(timeout=60)
        assert fast.code == 0, fast
        assert slow.returncode == 0, err.decode()
        assert out.decode().strip() != ""
        shown = sh("branch", "show", "b", "--json").json()
        assert shown["chats"] == 2
        users = [m["content"] for m in shown["messages"] if m["$type"].endswith("UserMessage")]
        assert users == ["hello", "wait 3"]
