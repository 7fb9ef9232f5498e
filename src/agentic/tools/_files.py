"""Built-in file tools confined to a root: read_file, write_file, list_files."""

from __future__ import annotations

import codecs
import os
from typing import Annotated, Any

from pydantic import AfterValidator

from agentic.tools._errors import ToolError
from agentic.tools._sandbox import Sandbox
from agentic.tools._tool import Tool

__all__ = ["file_tools"]

_UTF8 = codecs.getincrementaldecoder("utf-8")
_CanonicalPath = Annotated[str, AfterValidator(Sandbox.canonical)]
"""A path argument, validated to its canonical spelling (what a policy rule then sees)."""


def file_tools(
    root: str | os.PathLike[str],
    *,
    max_read_bytes: int = 1_000_000,
    max_write_bytes: int = 1_000_000,
    max_entries: int = 1000,
) -> list[Tool]:
    """Return `read_file`, `write_file` and `list_files`, confined to `root`.

    Paths are relative to `root`; absolute paths, `..`, NUL bytes, over-long paths
    and symlinks anywhere on the way are refused (see
    [`Sandbox`][agentic.tools.Sandbox]), also when a symlink is swapped in while
    the tool runs. Validation gives each path in its canonical spelling
    ([`Sandbox.canonical`][agentic.tools.Sandbox.canonical]: `"./docs//a.txt"`
    is `"docs/a.txt"`), so policy rules on `path` see the file that is opened.
    `list_files` shows a name that is not UTF-8 with U+FFFD for each bad byte.

    Args:
        root: The directory the tools may touch.
        max_read_bytes: The most bytes `read_file` returns (the rest is cut, and
            `truncated` says so; the Tool's result limit does not apply).
        max_write_bytes: The largest content `write_file` accepts.
        max_entries: The most entries `list_files` returns.
    """
    box = Sandbox(root)

    def read_file(path: _CanonicalPath, max_bytes: int = max_read_bytes) -> dict[str, Any]:
        """Read a UTF-8 text file under the workspace root.

        Args:
            path: The file, relative to the root.
            max_bytes: Return at most this many bytes of it.
        """
        limit = max(0, min(max_bytes, max_read_bytes))
        fd = box.open(path, os.O_RDONLY)
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(limit + 1)
        truncated = len(data) > limit
        # A cut inside a multi-byte character drops its first bytes (final=False keeps
        # them back) instead of showing a U+FFFD the file does not hold.
        text = _UTF8(errors="replace").decode(data[:limit], final=not truncated)
        return {"path": path, "content": text, "truncated": truncated}

    def write_file(
        path: _CanonicalPath, content: str, *, append: bool = False, create_dirs: bool = False
    ) -> dict[str, Any]:
        """Write a UTF-8 text file under the workspace root.

        Args:
            path: The file, relative to the root.
            content: The text to write.
            append: Add to the end instead of replacing the file.
            create_dirs: Create missing parent directories.
        """
        data = content.encode("utf-8")
        if len(data) > max_write_bytes:
            size, cap = len(data), max_write_bytes
            msg = f"content for {path!r} is {size:,} bytes, over the limit of {cap:,}"
            raise ToolError(msg)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        fd = box.open(path, flags, create_dirs=create_dirs)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return {"path": path, "bytes": len(data)}

    def list_files(path: _CanonicalPath = ".") -> dict[str, Any]:
        """List a directory under the workspace root.

        Args:
            path: The directory, relative to the root ("." for the root).
        """
        entries: list[dict[str, Any]] = []
        truncated = False
        with box.directory(box.parts(path)) as fd, os.scandir(fd) as scan:
            for entry in scan:
                if len(entries) >= max_entries:
                    truncated = True
                    break
                if entry.is_symlink():
                    kind = "symlink"
                elif entry.is_dir(follow_symlinks=False):
                    kind = "dir"
                elif entry.is_file(follow_symlinks=False):
                    kind = "file"
                else:
                    kind = "other"
                entries.append({"name": _shown(entry.name), "type": kind})
        entries.sort(key=lambda e: e["name"])
        return {"path": path, "entries": entries, "truncated": truncated}

    # read_file and list_files are bounded by max_read_bytes and max_entries: the Tool's
    # default result limit on top would fail a read cut to the limit (JSON is longer).
    return [
        Tool(read_file, max_result_bytes=None),
        Tool(write_file),
        Tool(list_files, max_result_bytes=None),
    ]


def _shown(name: str) -> str:
    """Return a file name as JSON can carry it: bytes that are not UTF-8 become U+FFFD."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.scandir kept undecodable bytes as lone surrogates
        return os.fsencode(name).decode("utf-8", errors="replace")
    return name
