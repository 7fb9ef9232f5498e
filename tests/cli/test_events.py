"""`agentic-cli events tail --follow` when its reader goes away."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.cli.conftest import Run, _env, cli_command


class TestFollowIntoAClosedPipe:
    """A follower whose reader stops reading (`| head -1`) ends quietly with exit 0."""

    def test_follow_ends_quietly_when_the_pipe_closes(self, sh: Run, home: Path) -> None:
        """The next record it cannot write ends it: exit 0, nothing on stderr."""
        assert sh("pile", "create", "first").code == 0
        with subprocess.Popen(
            [*cli_command(), "events", "tail", "-n", "50", "--follow", "--for", "60", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(home),
        ) as follower:
            assert follower.stdout is not None
            assert follower.stderr is not None
            follower.stdout.readline()
            follower.stdout.close()  # the reader is gone, as after `| head -1`
            for i in range(3):  # more than the pipe needs to notice
                assert sh("pile", "create", f"more{i}").code == 0
            code = follower.wait(timeout=60)
            err = follower.stderr.read().decode()
        assert code == 0, err
        assert err == ""
