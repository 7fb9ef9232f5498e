"""The execution chain of a Branch, and the copies of Events it hands out."""

from __future__ import annotations

import random

from agentic.branches._log_manager import LogManager
from agentic.branches._usage import UsageProcessor
from agentic.execution import (
    ConcurrencyProcessor,
    Policy,
    PolicyProcessor,
    Processor,
    RateLimitProcessor,
    RetryProcessor,
    TimeoutProcessor,
    ValidationProcessor,
)
from agentic.primitives import Element, Event

__all__ = ["branch_chain", "copy_event"]

# Shared by every Branch: they hold no per-Branch state (a Random alone is 2.5 KB).
_JITTER = random.Random()  # noqa: S311 - retry jitter, not cryptography
_ALLOW = Policy()
_USAGE = UsageProcessor()
_VALIDATION = ValidationProcessor()


def branch_chain(  # noqa: PLR0917 - the Branch's own options, in its order
    logs: LogManager,
    policy: Policy | None,
    timeout: float | None,
    attempts: int,
    requests_per_second: float | None,
    concurrency: int | None,
) -> list[Processor]:
    """Build the chain in `default_chain`'s order, with the usage note inside the audit.

    audit → usage → validation → policy → rate limit → concurrency → retry → timeout.
    """
    chain: list[Processor] = [logs.audit, _USAGE, _VALIDATION]
    chain.append(PolicyProcessor(policy if policy is not None else _ALLOW))
    if requests_per_second is not None:
        chain.append(RateLimitProcessor(requests_per_second))
    if concurrency is not None:
        chain.append(ConcurrencyProcessor(concurrency))
    if attempts > 1:
        chain.append(RetryProcessor(attempts, rng=_JITTER))
    if timeout is not None:
        chain.append(TimeoutProcessor(timeout))
    return chain


def copy_event(event: Event) -> Element:
    """An independent copy of a finished Event, to hand out across the actor boundary."""
    return Element.from_dict(event.to_dict())
