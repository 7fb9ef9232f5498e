"""What every command shares: settings, the state, input documents and output."""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentic.cli._errors import CliInputError

if TYPE_CHECKING:
    from rich.console import Console

    from agentic.kernel import Catalog
    from agentic.providers import Provider
    from agentic.store import SQLiteEventStore

__all__ = [
    "SETTINGS",
    "JsonOption",
    "Settings",
    "catalog",
    "console",
    "emit_json",
    "home",
    "parse_json",
    "printable",
    "provider_map",
    "read_input",
    "store",
    "wants_json",
]

_MAX_INPUT = 64 * 1024 * 1024
_MAX_DEPTH = 200


@dataclass
class Settings:
    """The global options of one invocation."""

    home: Path | None = None
    """`--home` (else `$AGENTIC_HOME`, else `./.agentic`)."""
    providers: Path | None = None
    """`--providers` (else `<home>/providers.toml` if it exists)."""
    json: bool = False
    """`--json` given before the command."""
    debug: bool = False
    """Show tracebacks."""
    verbose: bool = False
    """Log at info level."""

    def reset(self) -> None:
        """Forget the previous invocation's options (in-process callers run many)."""
        for field in fields(self):
            setattr(self, field.name, field.default)


SETTINGS = Settings()
"""The options of the invocation in progress."""

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout instead of tables.")
]


def wants_json(flag: bool) -> bool:  # noqa: FBT001 - mirrors the --json flag
    """Whether to print JSON (the command's `--json` or the global one)."""
    return flag or SETTINGS.json


def home() -> Path:
    """The state directory."""
    from agentic.store import default_home  # noqa: PLC0415 - keep --help fast

    # `--home=~/x` reaches us unexpanded (a shell expands `~` only at a word's start).
    return SETTINGS.home.expanduser() if SETTINGS.home is not None else default_home()


@contextlib.contextmanager
def store() -> Iterator[SQLiteEventStore]:
    """Open the event store in the state directory, and close it afterwards."""
    from agentic.store import open_store  # noqa: PLC0415

    opened = open_store(home(), timeout=10.0)
    try:
        yield opened
    finally:
        opened.close()


@contextlib.contextmanager
def catalog() -> Iterator[Catalog]:
    """Open the state as a Catalog."""
    from agentic.kernel import Catalog  # noqa: PLC0415

    with store() as opened:
        yield Catalog(opened)


def provider_map() -> dict[str, Provider]:
    """Load the providers: `--providers`, else `<home>/providers.toml`, else offline only."""
    from agentic.providers import load_providers  # noqa: PLC0415

    path = SETTINGS.providers.expanduser() if SETTINGS.providers is not None else None
    if path is None:
        candidate = home() / "providers.toml"
        path = candidate if candidate.is_file() else None
    return load_providers(path)


def read_input(spec: str, *, what: str) -> bytes:
    """Return the bytes `spec` stands for: `@path` a file, `@-` stdin, else the text."""
    if not spec.startswith("@"):
        try:
            return spec.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            msg = f"{what} is not valid text (character {exc.start})"
            raise CliInputError(msg) from exc
    target = spec[1:]
    try:
        if target == "-":
            data = sys.stdin.buffer.read(_MAX_INPUT + 1)
        else:
            with Path(target).open("rb") as handle:
                data = handle.read(_MAX_INPUT + 1)
    except OSError as exc:
        msg = f"cannot read {what} file {target!r}: {exc.strerror or exc}"
        raise CliInputError(msg) from exc
    if len(data) > _MAX_INPUT:
        msg = f"{what} file {target!r} is larger than {_MAX_INPUT} bytes"
        raise CliInputError(msg)
    return data


def parse_json(data: bytes, *, what: str) -> Any:
    """Parse a JSON document strictly: UTF-8, no duplicate keys, no NaN, bounded depth."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{what} is not valid UTF-8 (byte {exc.start})"
        raise CliInputError(msg) from exc
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except RecursionError as exc:
        msg = f"{what} is nested too deeply"
        raise CliInputError(msg) from exc
    except ValueError as exc:
        msg = f"{what} is not valid JSON: {str(exc).splitlines()[0]}"
        raise CliInputError(msg) from exc
    if _depth(value) > _MAX_DEPTH:
        msg = f"{what} is nested too deeply (more than {_MAX_DEPTH} levels)"
        raise CliInputError(msg)
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            msg = f"duplicate key {key!r}"
            raise ValueError(msg)
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    msg = f"{name} is not a JSON number"
    raise ValueError(msg)


def _depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        nxt: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                nxt.extend(item.values())
            elif isinstance(item, list):
                nxt.extend(item)
        level = nxt
    return depth - 1


# C0 controls but tab and newline, DEL, and C1 controls: ESC starts terminal escape
# sequences (colours, the window title, the clipboard), CR overwrites a line.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    r"""Return `text` with control characters written out (`\x1b`), for human output.

    Stored data (a note, a model's reply, a workflow's name) reaches the terminal only
    through this, so it can print text but never drive the terminal; `--json` output
    keeps the real characters, escaped by JSON.
    """
    # A CRLF line end is a line end; a lone CR (which rewrites the line) is not.
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\r\n", "\n"))


def console() -> Console:
    """A rich console on stdout (plain when stdout is not a terminal)."""
    from rich.console import Console  # noqa: PLC0415

    # No markup or emoji codes: cells hold user data, and "[/]" in a note is just text.
    return Console(highlight=False, soft_wrap=False, markup=False, emoji=False)


def emit_json(value: Any) -> None:
    """Print `value` as one JSON document on stdout."""
    import orjson  # noqa: PLC0415

    data = orjson.dumps(
        value,
        option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
        default=_fallback,
    )
    typer.echo(data.decode())


def _fallback(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)
