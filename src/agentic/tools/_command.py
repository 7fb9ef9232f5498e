"""Built-in run_command: an argv without a shell, with a timeout and an output cap."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import signal
from collections.abc import Mapping
from typing import Any

from agentic.execution import is_secret_key
from agentic.tools._errors import CommandTimeoutError, ToolError
from agentic.tools._tool import Tool

__all__ = ["command_tool"]

_CHUNK = 65536
_UTF8 = codecs.getincrementaldecoder("utf-8")
# Names is_secret_key misses: AZURE_OPENAI_KEY, SIGNING_KEY, MYSQL_PWD, SENTRY_DSN
# (not PWD itself, the working directory).
_SECRET_NAME = re.compile(r"(?:^|_)(?:KEYS?|DSN)$|_PWD$", re.IGNORECASE)
# scheme://user:password@host: a URL that carries its password (DATABASE_URL, ...).
_URL_PASSWORD = re.compile(r"://[^/\s@]*:[^/\s@]*@")


def command_tool(
    cwd: str | os.PathLike[str] | None = None,
    *,
    timeout: float = 10.0,
    max_output_bytes: int = 65536,
    env: Mapping[str, str] | None = None,
) -> Tool:
    """Return the guarded `run_command` tool.

    The command is an argv list run directly (no shell: arguments are never
    interpolated), in `cwd`, with stdin closed, in its own process group. It is
    killed (the whole group) when it runs past its timeout, when its output passes
    `max_output_bytes`, or when the invocation is cancelled; when it ends, whatever
    it left running in its group (a backgrounded child) is killed too. The tool is *guarded*:
    the executor runs it only when a policy rule names `run_command` explicitly.

    Args:
        cwd: The working directory (default: the process's).
        timeout: The longest a command may run, in seconds (a call may ask for less).
        max_output_bytes: The most bytes kept of stdout and of stderr each; more
            output kills the command and sets `truncated`. Output within it is
            returned whole (the Tool's result limit does not apply).
        env: The environment (default: the process's, without the variables whose
            names look secret, such as `OPENAI_API_KEY` or `GITHUB_TOKEN` (see
            [`is_secret_key`][agentic.execution.is_secret_key]) or end in `_KEY`,
            `_PWD` or `_DSN` (`AZURE_OPENAI_KEY`, `MYSQL_PWD`, `SENTRY_DSN`), and
            those whose value is a URL with a password
            (`postgresql://app:secret@db/app`)). Given explicitly, it is passed as is.
    """
    workdir = None if cwd is None else os.fspath(cwd)
    explicit = None if env is None else dict(env)

    async def run_command(argv: list[str], timeout_seconds: float | None = None) -> dict[str, Any]:
        """Run a program with arguments (no shell) and return its exit code and output.

        Args:
            argv: The program and its arguments, e.g. ["ls", "-l"].
            timeout_seconds: Kill it after this many seconds (capped by the tool's limit).
        """
        if not argv:
            msg = "run_command needs a non-empty argv"
            raise ToolError(msg)
        for index, arg in enumerate(argv):
            if "\x00" in arg:
                msg = f"run_command argv[{index}] {arg[:80]!r} contains a NUL byte"
                raise ToolError(msg)
        limit = timeout if timeout_seconds is None else max(0.0, min(timeout_seconds, timeout))
        # Read at each call (the process may change its environment), minus the secrets:
        # a model that can run `env` must not be able to read the provider's API key.
        environment = explicit if explicit is not None else _inherited_environment()
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=workdir,
                env=environment,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            reason = exc.strerror or exc
            if workdir is not None and exc.filename == workdir:  # the chdir failed
                msg = f"cannot run {argv[0]!r} in working directory {workdir!r}: {reason}"
            else:
                msg = f"cannot run {argv[0]!r}: {reason}"
            raise ToolError(msg) from None
        flooded = asyncio.Event()
        finished = False
        try:
            async with asyncio.timeout(limit):
                out, err = await asyncio.gather(
                    _read(process.stdout, max_output_bytes, flooded, process),
                    _read(process.stderr, max_output_bytes, flooded, process),
                )
                code = await process.wait()
            finished = True
        except TimeoutError:
            msg = f"command {argv[0]!r} ran longer than {limit}s and was killed"
            raise CommandTimeoutError(msg) from None
        finally:
            # Kill the group even when the leader has exited: a child it left behind
            # may hold the pipes open (and _reap would wait for it forever), or have
            # let go of them and run on in the background, past the call and its timeout.
            _kill(process)
            if not finished:
                # A descendant that left the group (setsid, setpgid) survives the kill
                # and may still hold the pipes: stop reading them, or the call would
                # last as long as that process, whatever the timeout or a cancel.
                _close_pipes(process)
            # Read both pipes to their end and reap the process, even when cancelled,
            # so the transport closes on this loop (no "Event loop is closed" later).
            await asyncio.shield(_reap(process))
        return {
            "argv": argv,
            "exit_code": code,
            "stdout": _text(out, cut=flooded.is_set() and len(out) >= max_output_bytes),
            "stderr": _text(err, cut=flooded.is_set() and len(err) >= max_output_bytes),
            "truncated": flooded.is_set(),
        }

    # The output is bounded by max_output_bytes (per stream): the Tool's own default
    # result limit would refuse output the tool was configured to keep (and discard it).
    return Tool(run_command, guarded=True, max_result_bytes=None)


async def _read(
    stream: asyncio.StreamReader | None,
    cap: int,
    flooded: asyncio.Event,
    process: asyncio.subprocess.Process,
) -> bytes:
    if stream is None:  # pragma: no cover - both pipes are always requested
        return b""
    kept = bytearray()
    while chunk := await stream.read(_CHUNK):
        room = cap - len(kept)
        if len(chunk) > room:
            kept += chunk[: max(room, 0)]
            flooded.set()
            _kill(process)
            # Keep reading (and dropping) to the end: a pipe left unread stays paused
            # by flow control, never sees EOF, and process.wait() would never return.
            while await stream.read(_CHUNK):
                pass
            break
        kept += chunk
    return bytes(kept)


async def _reap(process: asyncio.subprocess.Process) -> None:
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            while await stream.read(_CHUNK):
                pass  # discard what a killed process left in the pipe
    await process.wait()


def _text(data: bytes, *, cut: bool) -> str:
    """Decode output, dropping an incomplete last character when it was cut at the cap.

    `final=False` keeps those bytes back, so no U+FFFD the command never wrote is shown.
    """
    return _UTF8(errors="replace").decode(data, final=not cut)


def _inherited_environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not _is_secret_variable(key, value)}


def _is_secret_variable(name: str, value: str) -> bool:
    return (
        is_secret_key(name)
        or _SECRET_NAME.search(name) is not None
        or _URL_PASSWORD.search(value) is not None
    )


def _close_pipes(process: asyncio.subprocess.Process) -> None:
    """Close our ends of stdout and stderr; their readers then see EOF at once."""
    # asyncio.subprocess.Process keeps its transport private; the pipe transports
    # are reached through SubprocessTransport.get_pipe_transport (public).
    transport = getattr(process, "_transport", None)
    if not isinstance(transport, asyncio.SubprocessTransport):  # pragma: no cover
        return
    for fd in (1, 2):
        pipe = transport.get_pipe_transport(fd)
        if pipe is not None:
            pipe.close()


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
