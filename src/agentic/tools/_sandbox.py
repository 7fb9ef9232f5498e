"""Sandbox: file access confined to a root directory, immune to symlink swaps.

Every path is resolved one component at a time with `openat`-style calls
(`dir_fd=`) and `O_NOFOLLOW`, starting from a descriptor of the root opened once.
No step ever follows a symlink, so a link swapped in between a check and the open
cannot lead outside: there is no separate check to race against.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from agentic.tools._errors import PathDeniedError

__all__ = ["MAX_PATH_BYTES", "Sandbox"]

MAX_PATH_BYTES = 1024
"""The longest relative path accepted (bytes of UTF-8)."""
_MAX_COMPONENT = 255
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class Sandbox:
    """A root directory and the only ways in: relative paths without `..` or symlinks.

    Refused, with a [`PathDeniedError`][agentic.tools.PathDeniedError] naming the
    path: absolute paths, `..` anywhere, NUL bytes, empty paths (except `"."` for
    the root itself in listings), paths longer than `MAX_PATH_BYTES`, components
    longer than 255 bytes, and any symlink on the way (inside the root or not).
    [`open()`][agentic.tools.Sandbox.open] also refuses anything but a regular file
    with a single link (FIFOs, devices, hard links).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        """Confine access to `root` (which must be an existing directory).

        Raises:
            PathDeniedError: `root` is not a directory.
        """
        real = os.path.realpath(root)
        if not Path(real).is_dir():
            msg = f"sandbox root {os.fspath(root)!r} is not a directory"
            raise PathDeniedError(msg, path=os.fspath(root))
        self.root = real
        """The root directory (symlinks resolved once, at creation)."""

    @staticmethod
    def canonical(path: str) -> str:
        r"""Return `path` in the one spelling the sandbox opens it by.

        `\` becomes `/`, and empty and `.` components are dropped (`"./a//b/"` is
        `"a/b"`; the root is `"."`), so a policy rule on the path (a glob, say)
        judges the file that would be opened, however the path was written.
        Absolute paths and `..` are left for [`parts()`][agentic.tools.Sandbox.parts]
        to refuse: an absolute path is returned as it is.
        """
        if not isinstance(path, str) or path.startswith(("/", "\\")):
            return path
        parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
        return "/".join(parts) or "."

    def parts(self, path: str) -> list[str]:
        """Split a relative path into checked components (`[]` for the root itself).

        Raises:
            PathDeniedError: The path is malformed or tries to leave the root.
        """
        if not isinstance(path, str):
            msg = f"path must be a string, not {type(path).__name__}"
            raise PathDeniedError(msg)
        shown = path if len(path) <= 80 else path[:77] + "..."  # noqa: PLR2004
        if "\x00" in path:
            msg = f"path {shown!r} contains a NUL byte"
            raise PathDeniedError(msg, path=shown)
        try:  # as os.open will encode it: lone surrogates other than escaped bytes fail
            path.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            msg = f"path {shown!r} cannot be encoded as a file name (a lone surrogate)"
            raise PathDeniedError(msg, path=shown) from None
        if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
            msg = f"path {shown!r} is longer than {MAX_PATH_BYTES} bytes"
            raise PathDeniedError(msg, path=shown)
        if path.startswith(("/", "\\")):
            msg = f"path {shown!r} is absolute; give a path relative to the root"
            raise PathDeniedError(msg, path=shown)
        parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
        for part in parts:
            if part == "..":
                msg = f"path {shown!r} contains '..'; paths may not leave the root"
                raise PathDeniedError(msg, path=shown)
            if len(part.encode("utf-8", "surrogatepass")) > _MAX_COMPONENT:
                msg = f"path {shown!r} has a component longer than {_MAX_COMPONENT} bytes"
                raise PathDeniedError(msg, path=shown)
        return parts

    @contextlib.contextmanager
    def directory(self, parts: list[str], *, create: bool = False) -> Iterator[int]:
        """Yield a descriptor of the directory `parts` names, walked without following links.

        Args:
            parts: Components from [`parts()`][agentic.tools.Sandbox.parts].
            create: Create missing directories on the way.

        Raises:
            PathDeniedError: A component is a symlink or not a directory.
            FileNotFoundError: A component is missing (and `create` is false).
        """
        fd = os.open(self.root, _DIR_FLAGS)
        try:
            for index, part in enumerate(parts):
                try:
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError as exc:
                    if not create:
                        raise self._denied(fd, parts, index, exc) from None
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o755, dir_fd=fd)
                    child = self._open_dir(fd, parts, index)
                except OSError as exc:
                    raise self._denied(fd, parts, index, exc) from None
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    def _open_dir(self, fd: int, parts: list[str], index: int) -> int:
        try:
            return os.open(parts[index], _DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            raise self._denied(fd, parts, index, exc) from None

    def open(self, path: str, flags: int, mode: int = 0o644, *, create_dirs: bool = False) -> int:
        """Open a file under the root; return its descriptor.

        The last component is opened with `O_NOFOLLOW` relative to its directory's
        descriptor, so a symlink there is refused too. Only regular files with a
        single link are opened: a FIFO or device (which could block or act on
        open) and a hard link (whose other name may be outside the root) are
        refused. `O_TRUNC` is applied only after those checks pass.

        Raises:
            PathDeniedError: The path leaves the root, meets a symlink, or names
                something other than a regular file with one link.
            FileNotFoundError: Something on the way does not exist.
            IsADirectoryError: The path names a directory.
        """
        parts = self.parts(path)
        if not parts:
            msg = f"path {path!r} names the root directory, not a file"
            raise IsADirectoryError(msg)
        # Open without blocking (a FIFO would wait for a peer) and without truncating
        # (a hard link's outside twin would be emptied before the checks below).
        opening = (flags & ~os.O_TRUNC) | _NOFOLLOW | os.O_NONBLOCK
        with self.directory(parts[:-1], create=create_dirs) as dir_fd:
            try:
                fd = os.open(parts[-1], opening, mode, dir_fd=dir_fd)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # a FIFO opened for writing with no reader
                    msg = f"path {path!r} is not a regular file"
                    raise PathDeniedError(msg, path=path) from None
                raise self._denied(dir_fd, parts, len(parts) - 1, exc) from None
        try:
            _check_regular(fd, path)
            if not flags & os.O_NONBLOCK:
                os.set_blocking(fd, True)
            if flags & os.O_TRUNC:
                os.ftruncate(fd, 0)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _denied(self, dir_fd: int, parts: list[str], index: int, exc: OSError) -> OSError:
        where = "/".join(parts[: index + 1])
        if exc.errno in (errno.ELOOP, errno.EMLINK) or _is_link(dir_fd, parts[index]):
            msg = f"path {where!r} is a symlink; symlinks are not followed in the sandbox"
            return PathDeniedError(msg, path=where)
        if exc.errno == errno.ENOTDIR:
            msg = f"path {where!r} is not a directory"
            return NotADirectoryError(errno.ENOTDIR, msg)
        if exc.errno == errno.ENOENT:
            msg = f"path {where!r} does not exist"
            return FileNotFoundError(errno.ENOENT, msg)
        return exc


def _check_regular(fd: int, path: str) -> None:
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        msg = f"path {path!r} is a directory, not a file"
        raise IsADirectoryError(msg)
    if not stat.S_ISREG(info.st_mode):
        msg = f"path {path!r} is not a regular file"
        raise PathDeniedError(msg, path=path)
    if info.st_nlink > 1:
        msg = f"path {path!r} is a hard link; files with several links are refused"
        raise PathDeniedError(msg, path=path)


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        return False
