"""Fixtures for Branch tests: a fresh system per test (no thread may remain), a local API."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agentic.actors import ActorSystem


def wait_until(check, timeout: float = 10.0) -> None:
    """Poll `check()` until it is true (a bound on waiting, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.005)


@pytest.fixture
def system() -> Iterator[ActorSystem]:
    """An ActorSystem shut down after the test; no thread it started may remain."""
    before = set(threading.enumerate())
    actors = ActorSystem("test", ask_timeout=10.0, send_timeout=5.0, stop_timeout=10.0)
    try:
        yield actors
    finally:
        actors.shutdown(timeout=10.0)
    for thread in threading.enumerate():
        if thread not in before:
            thread.join(2.0)  # a closing connection's handler may need a moment
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert left == [], f"threads left after shutdown: {left}"


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class FakeAPI:
    """A real HTTP server on 127.0.0.1 that plays scripted replies in order and records requests."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                api.requests.append(
                    {"path": self.path, "body": json.loads(self.rfile.read(length))}
                )
                reply = api.replies.popleft() if api.replies else Reply(500, body=b"no reply")
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reply_json(self, body: Any, *, status: int = 200, headers: dict[str, str] | None = None):
        raw = json.dumps(body).encode()
        self.replies.append(
            Reply(status, {"content-type": "application/json", **(headers or {})}, raw)
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    """A local OpenAI-compatible API server, stopped after the test."""
    server = FakeAPI()
    yield server
    server.close()
