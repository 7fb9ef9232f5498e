import inspect
import subprocess
import sys
import typing

import pykka

import agentic.actors
from agentic.actors import (
    ActorDeadError,
    ActorError,
    ActorExistsError,
    ActorNotFoundError,
    AskCycleError,
    AskTimeoutError,
    EscalationError,
    MailboxFullError,
    SystemShutdownError,
    translate_pykka_error,
)
from agentic.errors import AgenticError


class TestExports:
    def test_all_is_sorted_public_names(self) -> None:
        """__all__ lists exactly the public names, sorted."""
        public = sorted(n for n in dir(agentic.actors) if not n.startswith("_"))
        assert agentic.actors.__all__ == sorted(agentic.actors.__all__)
        assert set(agentic.actors.__all__) <= set(public)
        modules = {n for n in public if inspect.ismodule(getattr(agentic.actors, n))}
        assert set(public) - modules == set(agentic.actors.__all__)

    def test_no_pykka_type_in_public_signatures(self) -> None:
        """pykka stays behind the API: no public signature mentions it."""
        for name in agentic.actors.__all__:
            obj = getattr(agentic.actors, name)
            members = [obj]
            if inspect.isclass(obj):
                members += [
                    m for n, m in vars(obj).items() if not n.startswith("_") and callable(m)
                ]
            for member in members:
                if not callable(member):
                    continue
                try:
                    hints = typing.get_type_hints(member)
                except (NameError, TypeError):
                    hints = getattr(member, "__annotations__", {})
                assert "pykka" not in repr(hints), f"{name}.{member}: {hints}"

    def test_actor_subclass_needs_no_pykka(self) -> None:
        """Actor is ours, not a pykka class."""
        assert not issubclass(agentic.actors.Actor, pykka.Actor)

    def test_primitives_do_not_import_pykka(self) -> None:
        """Importing the primitives does not drag in the actor runtime."""
        code = "import sys, agentic.primitives; assert 'pykka' not in sys.modules"
        subprocess.run([sys.executable, "-c", code], check=True)


class TestErrors:
    def test_hierarchy(self) -> None:
        """Every actor error is an AgenticError, with built-ins where the meaning matches."""
        for cls in (
            ActorDeadError,
            AskTimeoutError,
            MailboxFullError,
            AskCycleError,
            ActorNotFoundError,
            ActorExistsError,
            EscalationError,
            SystemShutdownError,
        ):
            assert issubclass(cls, ActorError)
            assert issubclass(cls, AgenticError)
        assert issubclass(AskTimeoutError, TimeoutError)
        assert issubclass(ActorNotFoundError, KeyError)
        assert issubclass(ActorExistsError, ValueError)
        assert issubclass(SystemShutdownError, ActorDeadError)

    def test_not_found_message_is_not_quoted(self) -> None:
        """KeyError subclasses print their sentence, not a quoted key."""
        assert str(ActorNotFoundError("no actor named 'x'", name="x")) == "no actor named 'x'"

    def test_translate_pykka_errors(self) -> None:
        """pykka's Timeout and ActorDeadError become ours; anything else passes through."""
        timeout = translate_pykka_error(pykka.Timeout("1"), name="a", timeout=1.5)
        assert isinstance(timeout, AskTimeoutError)
        assert timeout.timeout == 1.5
        assert timeout.name == "a"
        dead = translate_pykka_error(pykka.ActorDeadError("x"), name="a")
        assert isinstance(dead, ActorDeadError)
        other = ValueError("v")
        assert translate_pykka_error(other, name="a") is other
