"""A real HTTP server on 127.0.0.1 that plays scripted API replies and records requests."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks: list[bytes] | None = None  # sent with chunked transfer encoding
    drop_after: int | None = None  # close the socket after this many chunks, unfinished
    delay: float = 0.0  # seconds to wait before answering


class FakeAPI:
    """Serves scripted replies in order; records every request."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                api.requests.append(Recorded("POST", self.path, headers, raw))
                reply = api.replies.popleft() if api.replies else Reply(500, body=b"no reply")
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if reply.chunks is None:
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    return
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for n, chunk in enumerate(reply.chunks):
                    if reply.drop_after is not None and n >= reply.drop_after:
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reset(self) -> None:
        self.replies.clear()
        self.requests.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    # -- scripting helpers -------------------------------------------------------------

    def reply_json(
        self, body: Any, *, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.replies.append(
            Reply(status, {"content-type": "application/json", **(headers or {})}, raw)
        )

    def reply_sse(
        self,
        events: list[Any],
        *,
        piece_size: int | None = None,
        drop_after: int | None = None,
        status: int = 200,
    ) -> None:
        """Stream events: dicts as `data:` lines, (name, dict) pairs with `event:`, str raw."""
        chunks: list[bytes] = []
        for event in events:
            if isinstance(event, str):
                chunks.append(event.encode())
            elif isinstance(event, tuple):
                name, data = event
                chunks.append(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            else:
                chunks.append(f"data: {json.dumps(event)}\n\n".encode())
        if piece_size:
            blob = b"".join(chunks)
            chunks = [blob[i : i + piece_size] for i in range(0, len(blob), piece_size)]
        headers = {"content-type": "text/event-stream", "cache-control": "no-cache"}
        self.replies.append(Reply(status, headers, chunks=chunks, drop_after=drop_after))


@pytest.fixture(scope="session")
def _fake_api_server() -> Iterator[FakeAPI]:
    server = FakeAPI()
    yield server
    server.close()


@pytest.fixture
def api(_fake_api_server: FakeAPI) -> FakeAPI:
    """The shared local API server, with no scripted replies and no recorded requests."""
    _fake_api_server.reset()
    return _fake_api_server


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
