"""The actor runtime: actors on threads (via pykka), supervision, an event bus, an asyncio loop.

Everything goes through an explicit [`ActorSystem`][agentic.actors.ActorSystem]:

* [`Actor`][agentic.actors.Actor] is what you subclass: `receive(message)` and the
  lifecycle hooks; its [`context`][agentic.actors.ActorContext] hands out its name,
  ref, system, `tell_self`, `run_async` and `pipe`.
* [`ActorRef`][agentic.actors.ActorRef] is how everyone else talks to it: `tell`,
  `ask` (finite timeout), `ask_async` (never blocks the host's loop), `health`.
* [`SupervisionPolicy`][agentic.actors.SupervisionPolicy] says what a failure does.
* [`EventBus`][agentic.actors.EventBus] (`system.bus`) carries topics with `*`/`**`.

pykka stays behind this API: no pykka type appears in a public signature, and pykka's
errors become ours in one place (`translate_pykka_error`).
"""

from agentic.actors._actor import Actor, UnhandledMessageError
from agentic.actors._bus import BusEvent, EventBus, OverflowPolicy, Subscription
from agentic.actors._cell import ActorHealth, ActorState
from agentic.actors._context import ActorContext
from agentic.actors._errors import (
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
from agentic.actors._ref import ActorRef
from agentic.actors._supervision import (
    ActorFailure,
    ChildFailed,
    Directive,
    SupervisionPolicy,
)
from agentic.actors._system import ActorSystem
from agentic.actors._topics import compile_pattern, topic_matches

__all__ = [
    "Actor",
    "ActorContext",
    "ActorDeadError",
    "ActorError",
    "ActorExistsError",
    "ActorFailure",
    "ActorHealth",
    "ActorNotFoundError",
    "ActorRef",
    "ActorState",
    "ActorSystem",
    "AskCycleError",
    "AskTimeoutError",
    "BusEvent",
    "ChildFailed",
    "Directive",
    "EscalationError",
    "EventBus",
    "MailboxFullError",
    "OverflowPolicy",
    "Subscription",
    "SupervisionPolicy",
    "SystemShutdownError",
    "UnhandledMessageError",
    "compile_pattern",
    "topic_matches",
    "translate_pykka_error",
]
