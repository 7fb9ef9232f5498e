"""`agentic-cli branch`: conversations kept in the store, continued across invocations."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentic.cli._context import (
    JsonOption,
    catalog,
    console,
    emit_json,
    printable,
    provider_map,
    store,
    wants_json,
)
from agentic.cli._errors import ChatOvertakenError

if TYPE_CHECKING:
    from agentic.branches import ChatDelta, ChatResult
    from agentic.store import EventStore

__all__ = ["app"]

_log = logging.getLogger(__name__)
# A chat overtaken by another on its branch runs again; this many times at most.
_CHAT_ATTEMPTS = 5
_TOOL_LINE = 120  # characters of a tool call or result shown while a chat streams

app = typer.Typer(help="Branches: conversations with a provider.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="The branch's name.")]


def _check_provider(provider: str | None) -> list[str]:
    from agentic.kernel import CatalogInputError  # noqa: PLC0415

    names = sorted(provider_map())
    if provider is not None and provider not in names:
        msg = f"provider {provider!r} is not configured (configured: {', '.join(names)})"
        raise CatalogInputError(msg)
    return names


@app.command("create")
def create(
    name: Name,
    provider: Annotated[
        str | None, typer.Option("--provider", "-p", help="Provider name (default: the default).")
    ] = None,
    system: Annotated[str | None, typer.Option("--system", "-s", help="A system prompt.")] = None,
    *,
    json_: JsonOption = False,
) -> None:
    """Create a branch."""
    _check_provider(provider)
    with catalog() as state:
        state.create_branch(name, provider=provider, system=system)
    if wants_json(json_):
        emit_json({"name": name, "provider": provider, "system": system})
    else:
        typer.echo(f"created branch {name!r}")


@app.command("list")
def list_(*, json_: JsonOption = False) -> None:
    """List the branches."""
    from agentic.kernel import BranchHistory  # noqa: PLC0415

    with catalog() as state:
        histories = [BranchHistory(state.store, n) for n in state.names("branch")]
    rows = [
        {"name": h.name, "provider": h.provider, "messages": len(h.messages), "chats": h.chats}
        for h in histories
    ]
    if wants_json(json_):
        emit_json(rows)
        return
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"{len(rows)} branch(es)")
    for column in ("name", "provider", "chats", "messages"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["name"]),
            str(row["provider"] or "(default)"),
            str(row["chats"]),
            str(row["messages"]),
        )
    console().print(table)


@app.command("show")
def show(name: Name, *, json_: JsonOption = False) -> None:
    """Show a branch's conversation."""
    from agentic.kernel import BranchHistory  # noqa: PLC0415

    with catalog() as state:
        state.entry("branch", name)
        history = BranchHistory(state.store, name)
    if wants_json(json_):
        emit_json(
            {
                "name": name,
                "provider": history.provider,
                "system": history.system,
                "chats": history.chats,
                "messages": history.messages,
                "logs": len(history.logs),
            }
        )
        return
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    table = Table(title=f"branch {name!r} · {history.chats} chat(s) · {len(history.logs)} log(s)")
    table.add_column("#", justify="right")
    table.add_column("role")
    table.add_column("content", overflow="fold")
    for index, message in enumerate(history.messages):
        role = str(message.get("role", message.get("$type", "?")))
        content = message.get("content")
        if not isinstance(content, str):
            content = str(message.get("calls", message.get("result", "")))
        table.add_row(str(index), role, Text(printable(content)))
    console().print(table)


@app.command("chat")
def chat(
    name: Name,
    text: Annotated[str, typer.Argument(help="What to say.")],
    max_steps: Annotated[
        int, typer.Option("--max-steps", min=1, max=100, help="Model calls at most.")
    ] = 8,
    *,
    json_: JsonOption = False,
) -> None:
    """Send a message to a branch and print the reply (the conversation is kept).

    On a terminal the reply is printed as the model produces it. If another chat on
    the branch is recorded while this one runs, this one runs again on the
    conversation as it is now, so the conversation stays one line.
    """
    from agentic.kernel import CatalogInputError  # noqa: PLC0415
    from agentic.store import ConcurrencyError  # noqa: PLC0415

    if not text.strip():
        msg = "the message is empty"
        raise CatalogInputError(msg)
    text.encode("utf-8")  # a lone surrogate cannot be stored: refuse it before anything runs
    live = not wants_json(json_) and sys.stdout.isatty()
    with store() as opened:
        for attempt in range(1, _CHAT_ATTEMPTS + 1):
            try:
                result = _chat_once(opened, name, text, max_steps, live=live)
                break
            except ConcurrencyError as exc:
                if attempt == _CHAT_ATTEMPTS:
                    msg = (
                        f"branch {name!r}: other chats were recorded while this one ran, "
                        f"{attempt} times; nothing was recorded"
                    )
                    raise ChatOvertakenError(msg) from exc
                _log.info("branch %r: another chat was recorded meanwhile; running again", name)
                if live:  # what was shown is not what will be recorded
                    typer.echo("[another chat was recorded meanwhile; running again]", err=True)
    if wants_json(json_):
        emit_json({"branch": name, **result.model_dump(mode="json"), "content": result.content})
    elif not live:
        typer.echo(printable(result.content))


class _Live:
    """Prints a streaming chat on a terminal: the reply as it comes, tool use on its own lines."""

    def __init__(self) -> None:
        self.midline = False

    def show(self, delta: ChatDelta) -> None:
        message = delta.message
        if message is not None:
            self.line(_tool_line(message))
        elif delta.restart:  # a retried model call starts again on a new line
            self.line("")
        elif delta.text:
            sys.stdout.write(printable(delta.text))
            self.midline = not delta.text.endswith("\n")
        sys.stdout.flush()

    def line(self, text: str) -> None:
        sys.stdout.write(("\n" if self.midline else "") + text + ("\n" if text else ""))
        self.midline = False

    def end(self) -> None:
        if self.midline:
            sys.stdout.write("\n")
            self.midline = False
        sys.stdout.flush()


def _tool_line(message: Any) -> str:
    """`[add(a=2, b=3)]` for a call, `[add → 5]` for a result (cut to one short line)."""
    if getattr(message, "arguments", None) is not None:
        arguments = ", ".join(f"{k}={v!r}" for k, v in message.arguments.items())
        text = f"{message.tool}({arguments})"
    else:
        text = f"{message.tool} → {message.content}"
    text = printable(" ".join(text.split()))
    return f"[{text[: _TOOL_LINE - 3]}...]" if len(text) > _TOOL_LINE else f"[{text}]"


def _chat_once(
    opened: EventStore, name: str, text: str, max_steps: int, *, live: bool = False
) -> ChatResult:
    """Run one chat from the recorded conversation and record it (`live`: print its text).

    Raises:
        ConcurrencyError: Another chat was recorded meanwhile (nothing was recorded).
    """
    from agentic.actors import ActorSystem  # noqa: PLC0415 - heavy imports on demand
    from agentic.branches import SystemMessage, spawn_branch  # noqa: PLC0415
    from agentic.kernel import (  # noqa: PLC0415
        BranchHistory,
        Catalog,
        CatalogInputError,
        standard_tools,
    )

    Catalog(opened).entry("branch", name)
    history = BranchHistory(opened, name)
    providers = provider_map()
    if history.provider is not None and history.provider not in providers:
        msg = (
            f"branch {name!r} uses provider {history.provider!r}, which is not configured "
            f"(configured: {', '.join(sorted(providers))})"
        )
        raise CatalogInputError(msg)
    with ActorSystem("agentic-cli") as system:
        ref = spawn_branch(
            system,
            name,
            tools=standard_tools(),
            providers=providers,
            default_provider=history.provider,
            state=history.state(),
        )
        if not history.messages and history.system:
            ref.add_message(SystemMessage(content=history.system))
        if live:
            stream, shown = ref.stream_chat(text, max_steps=max_steps), _Live()
            for delta in stream:
                shown.show(delta)
            shown.end()
            if stream.result is None:  # pragma: no cover - the loop ends with one, or raises
                msg = f"branch {name!r}: the chat's stream ended without a result"
                raise RuntimeError(msg)
            result = stream.result
        else:
            result = ref.chat(text, max_steps=max_steps)
        exported = ref.export()
    history.record_chat(text, result.content, exported)
    return result
