"""Tests for the sandbox and the file tools: nothing leaves the root."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic.execution import Call, Condition, Executor, Policy, Rule, default_chain
from agentic.primitives import EventStatus
from agentic.tools import MAX_PATH_BYTES, PathDeniedError, Sandbox, ToolRegistry, file_tools


@pytest.fixture
def layout(tmp_path):
    """root/ with a file and a dir; a sibling root_evil/ and an outside secret."""
    root = tmp_path / "root"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "note.txt").write_text("inside")
    (root / "top.txt").write_text("top")
    evil = tmp_path / "root_evil"
    evil.mkdir()
    (evil / "secret.txt").write_text("SECRET")
    (tmp_path / "secret.txt").write_text("SECRET")
    return root


def tools(root):
    return {t.name: t.func for t in file_tools(root)}


class TestPathRules:
    @pytest.mark.parametrize(
        ("path", "fragment"),
        [
            ("../secret.txt", "contains '..'"),
            ("../root_evil/secret.txt", "contains '..'"),
            ("docs/../../secret.txt", "contains '..'"),
            ("/etc/passwd", "is absolute"),
            ("\\etc\\passwd", "is absolute"),
            ("docs/\x00note.txt", "NUL byte"),
            ("a/" * (MAX_PATH_BYTES // 2 + 1), "longer than"),
            ("x" * 300, "longer than 255"),
        ],
    )
    def test_escapes_are_denied(self, layout, path, fragment):
        """Traversal, absolute, NUL and over-long paths are refused with a reason."""
        read = tools(layout)["read_file"]
        with pytest.raises(PathDeniedError, match=fragment):
            read(path)

    def test_lone_surrogate_is_denied_with_the_path_named(self, layout):
        """A path that cannot be encoded for the OS is refused as a PathDeniedError, not a codec error."""
        t = tools(layout)
        for call in (lambda: t["read_file"]("a\ud800b"), lambda: t["write_file"]("q\ud800", "x")):
            with pytest.raises(PathDeniedError, match="cannot be encoded"):
                call()

    def test_sibling_prefix_absolute_path_is_denied(self, layout):
        """An absolute path into a sibling that shares the root's prefix is refused."""
        read = tools(layout)["read_file"]
        with pytest.raises(PathDeniedError):
            read(str(layout) + "_evil/secret.txt")

    def test_symlink_out_of_the_root_is_denied(self, layout, tmp_path):
        """A symlink inside the root pointing outside is never followed."""
        (layout / "link.txt").symlink_to(tmp_path / "secret.txt")
        (layout / "linkdir").symlink_to(tmp_path / "root_evil")
        t = tools(layout)
        with pytest.raises(PathDeniedError, match="symlink"):
            t["read_file"]("link.txt")
        with pytest.raises(PathDeniedError, match="symlink"):
            t["read_file"]("linkdir/secret.txt")
        with pytest.raises(PathDeniedError, match="symlink"):
            t["write_file"]("link.txt", "overwrite")
        with pytest.raises(PathDeniedError, match="symlink"):
            t["list_files"]("linkdir")
        assert (tmp_path / "secret.txt").read_text() == "SECRET"

    def test_dangling_symlink_write_is_denied(self, layout, tmp_path):
        """Writing through a dangling symlink does not create the target outside."""
        (layout / "dangling").symlink_to(tmp_path / "created.txt")
        with pytest.raises(PathDeniedError):
            tools(layout)["write_file"]("dangling", "x")
        assert not (tmp_path / "created.txt").exists()

    def test_root_must_be_a_directory(self, tmp_path):
        """A sandbox root that is not a directory is refused."""
        with pytest.raises(PathDeniedError, match="not a directory"):
            Sandbox(tmp_path / "missing")

    @given(st.lists(st.sampled_from(["a", "..", ".", "", "root_evil", "/", "\x00"]), max_size=6))
    def test_parts_never_contain_dotdot_or_separators(self, pieces):
        """Any accepted path splits into plain names only."""
        box = Sandbox(Path.cwd())
        path = "/".join(pieces)
        try:
            parts = box.parts(path)
        except PathDeniedError:
            return
        assert all(p not in ("", ".", "..") and "/" not in p and "\x00" not in p for p in parts)

    @given(
        st.lists(
            st.sampled_from(["a", "b.txt", "..", ".", "", "\\", "/", "\x00", "é"]), max_size=8
        ).map("".join)
    )
    def test_the_canonical_spelling_opens_the_same_path(self, path):
        """canonical(p) is accepted or refused as p is, names the same parts, and is a fixed point."""
        box = Sandbox(Path.cwd())
        canonical = Sandbox.canonical(path)
        assert Sandbox.canonical(canonical) == canonical
        try:
            parts = box.parts(path)
        except PathDeniedError:
            with pytest.raises(PathDeniedError):
                box.parts(canonical)
            return
        assert box.parts(canonical) == parts
        assert canonical == ("/".join(parts) or ".")


class TestFileTools:
    def test_read_write_list(self, layout):
        """The tools read, write (creating dirs on request) and list inside the root."""
        t = tools(layout)
        assert t["read_file"]("docs/note.txt") == {
            "path": "docs/note.txt",
            "content": "inside",
            "truncated": False,
        }
        assert t["write_file"]("new/deep/file.txt", "hello", create_dirs=True) == {
            "path": "new/deep/file.txt",
            "bytes": 5,
        }
        assert (layout / "new" / "deep" / "file.txt").read_text() == "hello"
        t["write_file"]("new/deep/file.txt", " again", append=True)
        assert t["read_file"]("new/deep/file.txt")["content"] == "hello again"
        listing = t["list_files"](".")
        assert listing["entries"] == [
            {"name": "docs", "type": "dir"},
            {"name": "new", "type": "dir"},
            {"name": "top.txt", "type": "file"},
        ]

    def test_listing_survives_a_name_that_is_not_utf8(self, layout):
        """A file whose name is not UTF-8 is listed (with U+FFFD) instead of failing the listing."""
        os.close(os.open(os.fsencode(layout) + b"/bad\xff.txt", os.O_CREAT | os.O_WRONLY, 0o644))

        async def main():
            ex = Executor(ToolRegistry(file_tools(layout)), default_chain())
            return await ex.submit(Call(target="list_files", arguments={}))

        event = asyncio.run(main())
        assert event.status is EventStatus.COMPLETED, event.execution.error
        assert event.execution.response["entries"] == [
            {"name": "bad\ufffd.txt", "type": "file"},
            {"name": "docs", "type": "dir"},
            {"name": "top.txt", "type": "file"},
        ]

    def test_a_large_file_is_read_truncated_with_the_default_limits(self, layout):
        """A file over max_read_bytes comes back cut to the limit, not as a result-size error."""
        (layout / "big.log").write_text('line\t"quoted"\n' * 200_000)  # 3.2 MB

        async def main():
            ex = Executor(ToolRegistry(file_tools(layout)), default_chain())
            return await ex.submit(Call(target="read_file", arguments={"path": "big.log"}))

        event = asyncio.run(main())
        assert event.status is EventStatus.COMPLETED, event.execution.error
        response = event.execution.response
        assert response["truncated"] is True
        assert len(response["content"]) == 1_000_000

    def test_missing_parent_without_create_dirs(self, layout):
        """Writing into a missing directory fails unless create_dirs is set."""
        with pytest.raises(FileNotFoundError):
            tools(layout)["write_file"]("nope/file.txt", "x")

    def test_missing_paths_are_named_from_the_root(self, layout):
        """A missing file or directory is reported with its path from the root, not a bare name."""
        t = tools(layout)
        with pytest.raises(FileNotFoundError, match="'docs/missing' does not exist"):
            t["read_file"]("docs/missing/x.txt")
        with pytest.raises(FileNotFoundError, match=r"'docs/absent\.txt' does not exist"):
            t["read_file"]("docs/absent.txt")
        with pytest.raises(FileNotFoundError, match="'docs/gone' does not exist"):
            t["list_files"]("docs/gone")

    def test_reading_a_directory_fails(self, layout):
        """A directory is not a file."""
        with pytest.raises(IsADirectoryError):
            tools(layout)["read_file"]("docs")

    def test_limits(self, tmp_path):
        """Reads are truncated at the cap; oversized writes and long listings are refused or cut."""
        root = tmp_path / "r"
        root.mkdir()
        for i in range(5):
            (root / f"f{i}").write_text("abcdef")
        t = {
            x.name: x.func
            for x in file_tools(root, max_read_bytes=4, max_write_bytes=3, max_entries=2)
        }
        assert t["read_file"]("f0") == {"path": "f0", "content": "abcd", "truncated": True}
        with pytest.raises(Exception, match="over the limit of 3"):
            t["write_file"]("g", "toolong")
        listing = t["list_files"]()
        assert listing["truncated"] is True
        assert len(listing["entries"]) == 2

    def test_a_cut_through_a_character_shows_no_character_that_is_not_there(self, layout):
        """Cutting a read inside a multi-byte character drops it rather than inventing U+FFFD."""
        (layout / "accents.txt").write_text("été, déjà", encoding="utf-8")
        read = tools(layout)["read_file"]
        assert read("accents.txt", max_bytes=3) == {  # "é" is 2 bytes: 3 cuts "t"|"é"...
            "path": "accents.txt",
            "content": "ét",
            "truncated": True,
        }
        assert read("accents.txt", max_bytes=4)["content"] == "ét"  # cut inside the second é
        (layout / "bad.txt").write_bytes(b"ok\xffok")
        assert read("bad.txt")["content"] == "ok\ufffdok"  # bytes that are not UTF-8 still show

    def test_through_the_executor(self, layout):
        """Through the default chain, an escape fails the Event with PathDeniedError."""
        registry = ToolRegistry(file_tools(layout))

        async def main():
            ex = Executor(registry, default_chain())
            return (
                await ex.submit(Call(target="read_file", arguments={"path": "top.txt"})),
                await ex.submit(
                    Call(target="read_file", arguments={"path": "../root_evil/secret.txt"})
                ),
            )

        ok, bad = asyncio.run(main())
        assert ok.execution.response["content"] == "top"
        assert bad.status is EventStatus.FAILED
        assert bad.execution.error.type == "agentic.tools.PathDeniedError"  # type: ignore[union-attr]


class TestSymlinkSwap:
    def test_swapping_a_symlink_in_never_leaks_outside_content(self, tmp_path):
        """While a thread keeps swapping a directory and a file for symlinks to outside,
        reads and writes only ever see the inside files or fail; nothing outside changes."""
        root = tmp_path / "root"
        (root / "d").mkdir(parents=True)
        (root / "d" / "f.txt").write_text("inside")
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "f.txt").write_text("SECRET")
        (root / "d_link").symlink_to(outside)  # swapped with the real d
        (root / "d" / "f_link").symlink_to(outside / "f.txt")  # swapped with the real f.txt
        t = tools(root)
        stop = threading.Event()

        def swapper():
            d, f = root / "d", root / "d" / "f.txt"
            while not stop.is_set():
                with contextlib.suppress(OSError):
                    Path(d).rename(root / "d_real")
                    Path(root / "d_link").rename(d)
                    Path(d).rename(root / "d_link")
                    Path(root / "d_real").rename(d)
                with contextlib.suppress(OSError):
                    Path(f).rename(root / "d" / "f_real")
                    Path(root / "d" / "f_link").rename(f)
                    Path(f).rename(root / "d" / "f_link")
                    Path(root / "d" / "f_real").rename(f)

        thread = threading.Thread(target=swapper)
        thread.start()
        seen = {"inside": 0, "denied": 0, "missing": 0}
        try:
            for i in range(3000):
                try:
                    if i % 3 == 0:
                        t["write_file"]("d/f.txt", "inside")
                        seen["inside"] += 1
                    else:
                        content = t["read_file"]("d/f.txt")["content"]
                        assert content == "inside", content
                        seen["inside"] += 1
                except PathDeniedError:
                    seen["denied"] += 1
                except (FileNotFoundError, NotADirectoryError):
                    seen["missing"] += 1
        finally:
            stop.set()
            thread.join()
        assert (outside / "f.txt").read_text() == "SECRET"
        assert sum(seen.values()) == 3000
        assert seen["inside"] > 0


class TestSpecialFiles:
    def test_hard_link_to_an_outside_file_is_not_written(self, layout, tmp_path):
        """A name in the root hard-linked to an outside file is refused; the outside file is intact."""
        os.link(tmp_path / "secret.txt", layout / "hard.txt")
        t = tools(layout)
        for append in (False, True):
            with pytest.raises(PathDeniedError, match="hard link"):
                t["write_file"]("hard.txt", "overwritten", append=append)
        assert (tmp_path / "secret.txt").read_text() == "SECRET"

    def test_hard_link_to_an_outside_file_is_not_read(self, layout, tmp_path):
        """Reading through a hard link would show an outside file's content: refused."""
        os.link(tmp_path / "secret.txt", layout / "hard.txt")
        with pytest.raises(PathDeniedError, match="hard link"):
            tools(layout)["read_file"]("hard.txt")

    def test_fifo_is_refused_without_blocking(self, layout):
        """A named pipe is not a regular file: reading or writing it fails at once, never hangs."""
        fifo = layout / "pipe"
        os.mkfifo(fifo)
        t = tools(layout)
        outcome: list[BaseException | object] = []

        def attempt(func, *args):
            try:
                outcome.append(func(*args))
            except BaseException as exc:
                outcome.append(exc)

        for func, args in ((t["read_file"], ("pipe",)), (t["write_file"], ("pipe", "x"))):
            outcome.clear()
            worker = threading.Thread(target=attempt, args=(func, *args))
            worker.start()
            worker.join(10)
            if worker.is_alive():  # unblock the stuck open, then fail
                with contextlib.suppress(OSError):
                    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
                    os.close(fd)
                worker.join()
                pytest.fail(f"{func.__name__} blocked on a FIFO")
            assert isinstance(outcome[0], PathDeniedError), outcome
            assert "not a regular file" in str(outcome[0])


class TestPolicyOnFileTools:
    def test_append_only_policy_is_not_bypassed_by_omitting_append(self, layout):
        """A deny rule on append == false keeps a write that omits append from truncating a file."""
        policy = Policy(
            rules=[
                Rule(
                    name="logs are append-only",
                    effect="deny",
                    targets=["write_file"],
                    when=[Condition(argument="append", op="equals", value=False)],
                )
            ]
        )

        async def main():
            ex = Executor(ToolRegistry(file_tools(layout)), default_chain(policy=policy))
            return await ex.submit(
                Call(target="write_file", arguments={"path": "top.txt", "content": "gone"})
            )

        event = asyncio.run(main())
        assert event.status is EventStatus.DENIED
        assert (layout / "top.txt").read_text() == "top"

    @pytest.mark.parametrize(
        "path",
        [
            "docs/note.txt",
            "./docs/note.txt",
            "docs\\note.txt",
            ".\\docs/./note.txt",
            "docs//note.txt/",
        ],
    )
    def test_a_path_rule_sees_every_spelling_of_the_path(self, layout, path):
        """A deny glob on docs/* holds for every spelling the sandbox opens as docs/note.txt."""
        policy = Policy(
            rules=[
                Rule(
                    name="no docs",
                    effect="deny",
                    targets=["read_file"],
                    when=[Condition(argument="path", op="glob", value="docs/*")],
                )
            ]
        )

        async def main():
            ex = Executor(ToolRegistry(file_tools(layout)), default_chain(policy=policy))
            return await ex.submit(Call(target="read_file", arguments={"path": path}))

        event = asyncio.run(main())
        assert event.status is EventStatus.DENIED
        assert event.execution.response is None

    @pytest.mark.parametrize(
        ("sent", "canonical"),
        [
            ("./a//b/", "a/b"),
            ("a\\b", "a/b"),
            (".", "."),
            ("./", "."),
            ("a/./b/.", "a/b"),
            ("a/../b", "a/../b"),  # kept for the sandbox to refuse, as sent
            ("/etc/passwd", "/etc/passwd"),
        ],
    )
    def test_paths_are_validated_to_their_canonical_form(self, layout, sent, canonical):
        """The file tools' validation gives each path in the form the sandbox opens it in."""
        for tool in file_tools(layout):
            arguments = {"path": sent} | ({"content": ""} if tool.name == "write_file" else {})
            assert tool.validate(arguments)["path"] == canonical
