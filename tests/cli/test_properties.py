"""Properties over generated hostile input (2,100 examples in all, in-process for speed):
only documented exit codes, never a traceback, one error line, no change on failure."""

from __future__ import annotations

import string
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.cli.conftest import EXIT_CODES, invoke_in_process

from agentic.store import open_store


class World:
    """One populated state directory shared by a property's examples."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "state"
        self.files = root / "inputs"
        self.files.mkdir()
        self.ids: list[str] = []
        for kind, data in [("Note", '{"text": "a"}'), ("Task", '{"title": "b"}')]:
            outcome = invoke_in_process(self.home, ["element", "create", "-t", kind, "-d", data])
            assert outcome.code == 0, outcome
            self.ids.append(outcome.stdout.strip())
        for args in (
            ["pile", "create", "notes", "--type", "Note"],
            ["pile", "add", "notes", self.ids[0]],
            ["progression", "create", "order", "--pile", "notes"],
            ["progression", "append", "order", self.ids[0]],
        ):
            assert invoke_in_process(self.home, args).code == 0
        self.count = 0

    def position(self) -> int:
        store = open_store(self.home)
        try:
            return store.last_position()
        finally:
            store.close()

    def file(self, data: bytes, suffix: str) -> str:
        self.count += 1
        path = self.files / f"input{self.count}{suffix}"
        path.write_bytes(data)
        return str(path)

    def check(self, args: list[str], stdin: bytes | None = None) -> None:
        """Run `args`; assert the documented outcome."""
        before = self.position()
        outcome = invoke_in_process(self.home, args, stdin)
        assert outcome.code in EXIT_CODES, (args, outcome)
        assert "Traceback" not in outcome.stderr + outcome.stdout, (args, outcome)
        if outcome.code == 1 and args[:1] == ["run"] and "run-" in outcome.stdout:
            return  # the workflow ran and a step failed: the run is recorded, as it should be
        if outcome.code != 0:
            lines = outcome.stderr.strip().splitlines()
            assert len(lines) == 1, (args, outcome.stderr)
            assert lines[0].startswith("error: "), (args, outcome.stderr)
            assert "internal error" not in lines[0], (args, outcome.stderr)
            assert self.position() == before, (args, outcome)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """A populated state for the module's properties."""
    with tempfile.TemporaryDirectory() as root:
        yield World(Path(root))


# -- strategies ---------------------------------------------------------------------

_invalid_utf8 = st.binary(max_size=40).map(lambda b: b.decode("utf-8", "surrogateescape"))
_printable = st.text(alphabet=string.printable, max_size=30)
words = st.one_of(
    st.text(max_size=30, alphabet=st.characters(exclude_categories=["Cs"])),
    _printable,
    _invalid_utf8,
    st.sampled_from(["", "-", "--", "--json", "@", "@-", "..", "../x", "-1", "0", "1e999"]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _dump(value: Any) -> str:
    import json

    return json.dumps(value)


def _nested(opener: str, depth: int) -> bytes:
    closer = {"[": "]", '{"a":': "}", '{"text": ': "}"}[opener]
    return (opener * depth + "1" + closer * depth).encode()


_FIELDS = ["text", "title", "priority", "done", "body", "id", "metadata", "$type", "created_at"]

documents = st.one_of(
    st.binary(max_size=200),
    st.builds(_nested, st.sampled_from(["[", '{"a":', '{"text": ']), st.integers(1, 3000)),
    st.builds(
        lambda field, digits: f'{{"title": "t", "{field}": {"9" * digits}}}'.encode(),
        st.sampled_from(["text", "priority", "title", "metadata"]),
        st.integers(1, 6000),
    ),
    st.sampled_from(["text", "title", "id", "$type"]).map(
        lambda key: f'{{"{key}": "a", "{key}": "b"}}'.encode()
    ),
    json_values.map(lambda v: _dump(v).encode()),
    st.dictionaries(st.sampled_from(_FIELDS), json_values, max_size=5).map(
        lambda v: _dump(v).encode()
    ),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [b"1e99999", b"-0", b"NaN", b"Infinity", b'{"text": "\\ud800"}', b"\xef\xbb\xbf{}", b"{}{}"]
    ),
)
"""Hostile JSON-ish documents: random bytes, deep nesting, huge numbers, duplicate keys."""


_CITE_PARTS = [
    "${",
    "$${",
    "$",
    "}",
    "{",
    "steps.",
    "step.",
    "a",
    "b",
    ".result",
    "reslt",
    ".",
    " ",
    "é",
]


@st.composite
def workflows(draw: st.DrawFn) -> bytes:
    """Hostile workflow files: bytes, TOML-ish text, JSON structures."""
    kind = draw(st.integers(0, 4))
    if kind == 4:  # citation-like text: loads and runs, or is refused up front
        text = "".join(draw(st.lists(st.sampled_from(_CITE_PARTS), max_size=12)))
        target = draw(st.sampled_from(["args", "message", "system"]))
        second: dict[str, Any] = {"id": "b", "depends_on": draw(st.sampled_from([[], ["a"]]))}
        if target == "args":
            second |= {"tool": "echo", "args": {"text": text}}
        else:
            second |= {"message": text or "m", "system": text} if target == "system" else {}
            second.setdefault("message", text or "m")
        steps = [{"id": "a", "tool": "echo", "args": {"text": "x"}}, second]
        return _dump({"name": "cite", "steps": steps}).encode()
    if kind == 0:
        data: bytes = draw(documents)
        return data
    if kind == 1:
        steps = draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "id": _printable,
                        "tool": words,
                        "depends_on": st.lists(_printable, max_size=3),
                    }
                ),
                max_size=4,
            )
        )
        return _dump({"name": draw(st.text(max_size=5)), "steps": steps}).encode()
    if kind == 2:
        lines = draw(
            st.lists(
                st.sampled_from(
                    [
                        'name = "x"',
                        "[[steps]]",
                        'id = "a"',
                        'tool = "nope"',
                        'depends_on = ["a"]',
                        "max_parallel = 0",
                        "steps = 5",
                        "[steps",
                        'id = "a"\nid = "a"',
                    ]
                ),
                max_size=8,
            )
        )
        return "\n".join(lines).encode()
    return draw(st.binary(max_size=300))


_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "derandomize": False,
}


class TestHostileArguments:
    """Generated arguments and files never crash the CLI or change state on failure."""

    @settings(max_examples=800, **_SETTINGS)
    @given(
        args=st.lists(words, max_size=6),
        group=st.sampled_from(
            ["element", "pile", "progression", "runs", "branch", "events", "run", "replay", ""]
        ),
    )
    def test_random_arguments(self, world: World, args: list[str], group: str) -> None:
        """Any argument list to any command group: a documented outcome."""
        if group == "branch" and args[:1] == ["chat"]:
            args = ["chat", "no-such-branch", *args[1:]]  # keep the runtime out of it
        world.check([group, *args] if group else args)

    @settings(max_examples=600, **_SETTINGS)
    @given(
        doc=documents,
        type_name=st.one_of(
            st.sampled_from(["Note", "Task", "Document", "agentic.Note", "Log", "Element", "Call"]),
            words,
        ),
        via=st.sampled_from(["arg", "file", "stdin"]),
    )
    def test_element_documents(self, world: World, doc: bytes, type_name: str, via: str) -> None:
        """Any document as element data: created, or refused with no change."""
        if via == "file":
            data, stdin = "@" + world.file(doc, ".json"), None
        elif via == "stdin":
            data, stdin = "@-", doc
        else:
            data, stdin = doc.decode("utf-8", "surrogateescape"), None
        world.check(["element", "create", "--type", type_name, "--data", data], stdin)

    @settings(max_examples=400, **_SETTINGS)
    @given(doc=workflows(), suffix=st.sampled_from([".toml", ".json", ".txt", ""]))
    def test_workflow_files(self, world: World, doc: bytes, suffix: str) -> None:
        """Any workflow file: run, or refused before anything is recorded."""
        world.check(["run", world.file(doc, suffix), "--timeout", "5"])

    @settings(max_examples=300, **_SETTINGS)
    @given(
        op=st.sampled_from(["insert", "move", "append", "remove"]),
        name=st.one_of(st.just("order"), words),
        index=st.one_of(st.integers(-(10**25), 10**25), st.integers(-3, 3)).map(str),
        which=st.integers(0, 2),
        ref=words,
    )
    def test_progression_edits(  # noqa: PLR0917 - one parameter per generated value
        self, world: World, op: str, name: str, index: str, which: int, ref: str
    ) -> None:
        """Any edit of a progression: done, or refused with no change."""
        element = world.ids[which] if which < len(world.ids) else ref
        args = {
            "insert": [name, index, element],
            "move": [name, element, index],
            "append": [name, element, ref],
            "remove": [name, element],
        }[op]
        world.check(
            ["progression", op, "--", *args]
            if index.startswith("-")
            else ["progression", op, *args]
        )
