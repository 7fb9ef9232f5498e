"""default_chain: the built-in processors in their recommended order."""

from __future__ import annotations

from agentic.execution._audit import AuditProcessor
from agentic.execution._concurrency import ConcurrencyProcessor
from agentic.execution._policy import Policy
from agentic.execution._policy_processor import PolicyProcessor
from agentic.execution._rate_limit import RateLimitProcessor
from agentic.execution._retry import RetryProcessor
from agentic.execution._timeout import TimeoutProcessor
from agentic.execution._validation import ValidationProcessor
from agentic.execution.types import Processor
from agentic.primitives import Log, Pile

__all__ = ["default_chain"]


def default_chain(
    *,
    policy: Policy | None = None,
    requests_per_second: float | None = None,
    concurrency: int | None = 64,
    timeout: float | None = 30.0,
    attempts: int = 3,
    audit: bool = True,
    logs: Pile[Log] | None = None,
) -> list[Processor]:
    """Return the built-in processors, outermost first.

    The order is audit → validation → policy → rate limit → concurrency → retry →
    timeout → (invoke):

    * audit outermost, so denials and validation failures are logged too;
    * the cheap gates (validation, policy) before anything waits;
    * rate limit before concurrency, so waiting for a token holds no slot;
    * retry outside timeout, so each attempt gets its own deadline.

    Args:
        policy: The policy (default: allow every target that is not guarded).
        requests_per_second: A rate limit per target (default: none).
        concurrency: The most Events in flight per target (None: no limit).
        timeout: The deadline per attempt in seconds (None: none).
        attempts: The most attempts for retryable errors (1: no retry).
        audit: Whether to include the audit processor.
        logs: The Pile the audit Logs go to (default: a new one).
    """
    chain: list[Processor] = []
    if audit:
        chain.append(AuditProcessor(logs))
    chain.append(ValidationProcessor())
    chain.append(PolicyProcessor(policy))
    if requests_per_second is not None:
        chain.append(RateLimitProcessor(requests_per_second))
    if concurrency is not None:
        chain.append(ConcurrencyProcessor(concurrency))
    if attempts > 1:
        chain.append(RetryProcessor(attempts))
    if timeout is not None:
        chain.append(TimeoutProcessor(timeout))
    return chain
