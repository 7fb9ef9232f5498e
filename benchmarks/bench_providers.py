"""Benchmark the provider layer: per-chunk stream parsing, JSON repair, offline steps.

Run with the venv that has both agentic and lionagi:

    /work/venv-lion/bin/python benchmarks/bench_providers.py

Peers, in the same process: lionagi 0.36's OpenAI endpoint SSE framing + chunk
conversion (`Endpoint._frame_stream_line` / `_line_to_stream_chunk`) and its
`fuzzy_json`. Rows without a peer print "-".
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable

from agentic.providers import (
    ChatMessage,
    IncrementalJSONParser,
    OfflineProvider,
    OpenAICompatibleProvider,
    ToolRule,
    ToolSpec,
    parse_json,
)
from agentic.providers._assembly import ResponseAssembler
from agentic.providers._sse import SSEDecoder

REPEATS = 7


def best_of(fn: Callable[[], int]) -> float:
    """Median seconds per unit over REPEATS runs (fn returns the number of units)."""
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        units = fn()
        samples.append((time.perf_counter() - start) / units)
    return statistics.median(samples)


def text_stream(n: int) -> list[str]:
    lines = []
    for i in range(n):
        chunk = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}],
        }
        lines += [f"data: {json.dumps(chunk)}", ""]
    return lines


def tool_stream(n: int) -> list[str]:
    lines = []
    first = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "search", "arguments": ""},
    }
    pieces = ["", '{"q": "', *["abcdefgh"] * (n - 3), '"}']
    for i, piece in enumerate(pieces):
        call = first if i == 0 else {"index": 0, "function": {"arguments": piece}}
        chunk = {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}],
        }
        lines += [f"data: {json.dumps(chunk)}", ""]
    return lines


def agentic_sse(lines: list[str]) -> Callable[[], int]:
    provider = OpenAICompatibleProvider(model="m", api_key="k")

    def run() -> int:
        decoder = SSEDecoder()
        assembler = ResponseAssembler(provider="openai", model="m")
        count = 0
        for line in lines:
            event = decoder.decode(line)
            if event is not None:
                provider._parse_chunk(event.data, assembler)
                count += 1
        assembler.build()
        return count

    return run


def lionagi_sse(lines: list[str]) -> Callable[[], int] | None:
    try:
        from lionagi.service.connections.endpoint import _SSEFrame
        from lionagi.service.connections.match_endpoint import match_endpoint
    except ImportError:
        return None
    endpoint = match_endpoint("openai", "chat/completions", api_key="sk-x")

    def run() -> int:
        frame = _SSEFrame()
        count = 0
        for line in lines:
            for data, name in endpoint._frame_stream_line(line, frame):
                endpoint._line_to_stream_chunk(data, sse_event=name)
                count += 1
        return count

    return run


DOCS = {
    "clean JSON (1 KB)": json.dumps(
        {"items": [{"id": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(20)]}
    ),
    "fenced JSON": "Here you go:\n```json\n"
    + json.dumps({"title": "x", "steps": ["a", "b", "c"]})
    + "\n```\nDone.",
    "broken JSON": "{'title': 'plan', steps: ['a', 'b', 'c',], done: True,}",
}


def agentic_parse(text: str) -> Callable[[], int]:
    def run() -> int:
        for _ in range(200):
            parse_json(text)
        return 200

    return run


def lionagi_parse(text: str) -> Callable[[], int] | None:
    try:
        from lionagi.ln.fuzzy import extract_json
    except ImportError:
        return None

    def run() -> int:
        for _ in range(200):
            extract_json(text, fuzzy_parse=True)
        return 200

    return run


def incremental(piece: int) -> Callable[[], int]:
    doc = json.dumps({"rows": [{"k": f'v{{}}\\"{i}', "n": i} for i in range(60)]})
    chunks = [doc[i : i + piece] for i in range(0, len(doc), piece)]

    def run() -> int:
        parser = IncrementalJSONParser()
        for c in chunks:
            parser.feed(c)
        return len(chunks)

    return run


def offline_step() -> Callable[[], int]:
    rules = [ToolRule(pattern=r"weather in (\w+)", tool="weather", arguments={"city": "{1}"})]
    provider = OfflineProvider(rules=rules)
    tools = [ToolSpec(name="weather")]
    messages = [ChatMessage.system("be brief")]
    for i in range(4):
        messages += [ChatMessage.user(f"question {i}"), ChatMessage.assistant(f"answer {i}")]
    messages.append(ChatMessage.user("weather in Paris"))

    async def loop() -> int:
        for _ in range(300):
            await provider.complete(messages, tools)
        return 300

    return lambda: asyncio.run(loop())


def offline_stream_chunk() -> Callable[[], int]:
    provider = OfflineProvider([" ".join(f"word{i}" for i in range(400))])

    async def loop() -> int:
        count = 0
        async for _ in provider.stream([ChatMessage.user("go")]):
            count += 1
        return count

    return lambda: asyncio.run(loop())


def row(name: str, ours: Callable[[], int], peer: Callable[[], int] | None) -> None:
    mine = best_of(ours) * 1e6
    if peer is None:
        print(f"| {name} | {mine:.2f} | - | - |")
        return
    theirs = best_of(peer) * 1e6
    print(f"| {name} | {mine:.2f} | {theirs:.2f} | {theirs / mine:.2f}x |")


def main() -> None:
    print("| benchmark (µs per unit) | agentic | lionagi 0.36 | lionagi/agentic |")
    print("|---|---|---|---|")
    text, tools = text_stream(2000), tool_stream(2000)
    row("SSE text chunk: decode + parse + assemble", agentic_sse(text), lionagi_sse(text))
    row("SSE tool-call delta chunk", agentic_sse(tools), lionagi_sse(tools))
    for label, doc in DOCS.items():
        row(f"parse_json: {label}", agentic_parse(doc), lionagi_parse(doc))
    row("IncrementalJSONParser.feed, 8-char chunk", incremental(8), None)
    row("IncrementalJSONParser.feed, 64-char chunk", incremental(64), None)
    row("OfflineProvider.complete, 10-msg step w/ rule", offline_step(), None)
    row("OfflineProvider.stream, per chunk", offline_stream_chunk(), None)


if __name__ == "__main__":
    main()
