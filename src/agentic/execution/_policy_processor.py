"""PolicyProcessor: the gate that asks a Policy whether a Call may run."""

from __future__ import annotations

import contextlib

from agentic.execution._call import Call
from agentic.execution._chain import note
from agentic.execution._errors import PolicyDeniedError
from agentic.execution._policy import Policy
from agentic.execution.types import CallNext, Target
from agentic.primitives import Event, EventStatus

__all__ = ["PolicyProcessor"]


class PolicyProcessor:
    """Deny a Call its [`Policy`][agentic.execution.Policy] refuses; let the rest through.

    A denial ends the Event as `denied` with a reason that names the rule, and the
    rest of the chain never runs. Every denial, and every allow by a rule, is noted
    on the Event for the audit log (an allow by the default is implied by the
    absence of a note). Events that are not Calls pass through. Without a
    [`ValidationProcessor`][agentic.execution.ValidationProcessor] ahead of it, the
    gate validates a Call itself, so that rules still see the arguments as the target
    will get them (coerced, defaults filled in); arguments that do not validate are
    judged as sent, and fail in the invocation.
    """

    __slots__ = ("policy",)

    def __init__(self, policy: Policy | None = None) -> None:
        """Create the gate.

        Args:
            policy: The rules (default: an empty policy, which allows every target
                that is not guarded).
        """
        self.policy = policy if policy is not None else Policy()
        """The policy consulted."""

    async def __call__(self, event: Event, call_next: CallNext) -> Event:
        """Decide, then continue or deny."""
        if isinstance(event, Call):
            target = event.peek_target()
            guarded = bool(getattr(target, "guarded", False)) if target is not None else False
            if target is not None and not event.is_validated:
                _validate(event, target)
            decision = self.policy.decide(event, guarded=guarded)
            if not decision.allowed:
                note(event, "policy", "deny", decision.reason)
                if event.status is EventStatus.PENDING:
                    event.deny(decision.reason)
                    return event
                # Inside a retry the Event is already running: fail instead of deny.
                raise PolicyDeniedError(decision.reason)
            if decision.rule is not None:  # the default's allow is implied; rules are noted
                note(event, "policy", "allow", decision.reason)
            if guarded:
                event.clear_guard()
        return await call_next(event)


def _validate(call: Call, target: Target) -> None:
    # Arguments that do not validate are judged as sent; the invocation fails on them.
    with contextlib.suppress(Exception):
        call.set_validated(target.validate(call.arguments))
