"""The `Actor` base class: what a user writes, with no runtime import of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from agentic.actors._errors import ActorError, EscalationError

if TYPE_CHECKING:
    from agentic.actors._context import ActorContext
    from agentic.actors._supervision import ChildFailed

__all__ = ["Actor", "UnhandledMessageError"]


class UnhandledMessageError(ActorError, TypeError):
    """An actor received a message its `receive` does not handle."""


class Actor:
    """An object that handles one message at a time, in its own mailbox order.

    Subclass it, dispatch typed messages (NamedTuples or pydantic models) with `match`
    in [`receive()`][agentic.actors.Actor.receive], and spawn it with
    [`ActorSystem.spawn()`][agentic.actors.ActorSystem.spawn]. The runtime calls every
    method here from the actor's own thread, one at a time, so an actor's attributes
    need no locks. Do not call an actor's methods from outside: send it messages.

    **Restart.** When the supervision policy restarts an actor, the runtime builds a
    *fresh* object with the same factory and arguments, then moves over from the old
    object every attribute that holds a [`Pile`][agentic.primitives.Pile] or a
    [`Progression`][agentic.primitives.Progression], plus the attributes named in
    [`restart_keeps`][agentic.actors.Actor.restart_keeps]; everything else starts
    again from the factory. Then it calls
    [`on_restart()`][agentic.actors.Actor.on_restart] on the new object (not
    `on_start`). So durable state belongs in Piles; a half-updated scratch attribute is
    discarded with the old object.

    Example:
        ```python
        class Counter(Actor):
            def __init__(self) -> None:
                self.total = 0

            def receive(self, message: Any) -> Any:
                match message:
                    case Add(amount):
                        self.total += amount
                        return self.total
                    case _:
                        return super().receive(message)
        ```
    """

    restart_keeps: ClassVar[tuple[str, ...]] = ()
    """Names of attributes a restart moves to the new object, besides Piles and
    Progressions (which always move)."""

    _context: ActorContext | None = None

    @property
    def context(self) -> ActorContext:
        """The actor's view of the runtime: its name, ref, system, and async helpers.

        Raises:
            ActorError: before the actor is spawned (in `__init__`, say); use
                `on_start` for setup that needs the context.
        """
        context = self._context
        if context is None:
            msg = f"{type(self).__name__} has no context yet: use it from on_start on"
            raise ActorError(msg)
        return context

    def on_start(self) -> None:
        """Run setup in the actor's thread before it handles its first message.

        If it raises, the actor stops and the failure escalates to its parent (or the
        system) with reason `"start-failed"`.
        """

    def on_stop(self) -> None:
        """Run cleanup in the actor's thread after its last message.

        Called once whenever a started actor stops: asked to, at shutdown, or after
        a failure whose directive stops it. Exceptions are logged, not raised.
        """

    def on_failure(self, error: Exception) -> None:
        """Observe a failure of one of this actor's handlers, before supervision acts.

        Args:
            error: what the handler raised (the asker, if any, gets it too).
        """

    def on_restart(self, error: Exception) -> None:
        """Finish a restart: called on the *new* object once kept state is moved in.

        Args:
            error: the failure that caused the restart.
        """

    def on_child_failed(self, failure: ChildFailed) -> None:
        """Decide about a child that escalated (it has already stopped).

        The default escalates further: it raises
        [`EscalationError`][agentic.actors.EscalationError], which fails this actor
        under its own supervision policy. Override to absorb the failure, respawn the
        child, and so on.

        Args:
            failure: who failed, with what, and why it escalated.

        Raises:
            EscalationError: by default.
        """
        name = self._context.name if self._context is not None else type(self).__name__
        msg = f"child {failure.child!r} of actor {name!r} escalated: {failure.error.message}"
        raise EscalationError(msg, name=name, child=failure.child)

    def receive(self, message: Any) -> Any:
        """Handle one message and return the reply (ignored for a tell).

        The default raises, so an unknown message is a visible failure rather than a
        silent drop; end a `match` with `case _: return super().receive(message)`.

        Args:
            message: the message, a serializable value.

        Returns:
            The reply for an ask.

        Raises:
            UnhandledMessageError: always, in this default.
        """
        name = self._context.name if self._context is not None else type(self).__name__
        msg = f"actor {name!r} cannot handle a {type(message).__name__} message"
        raise UnhandledMessageError(msg, name=name)
