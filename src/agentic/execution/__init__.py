"""The execution layer: Events through a Processor chain into an Executor.

```
Executor.submit(call) ─▶ Chain: audit → validation → policy → rate limit
                                → concurrency → retry → timeout → invoke(target)
```

This layer knows Events and Targets, not tools or actors: a tool registry, a
provider table or a plugin host plugs in as a [`Resolver`][agentic.execution.Resolver].
"""

from agentic.execution._audit import (
    DEFAULT_LINE_VALUE_BYTES,
    DEFAULT_MAX_VALUE_BYTES,
    AuditProcessor,
)
from agentic.execution._call import Call
from agentic.execution._chain import Chain, fail_event, invoke_event, note
from agentic.execution._concurrency import ConcurrencyProcessor
from agentic.execution._defaults import default_chain
from agentic.execution._errors import (
    ArgumentValidationError,
    ExecutionError,
    ExecutorClosedError,
    InvocationTimeoutError,
    PolicyDeniedError,
    PolicyError,
    ProcessingError,
    RateLimitedError,
    TargetExitError,
    TargetNotFoundError,
)
from agentic.execution._executor import Executor
from agentic.execution._keys import by_target
from agentic.execution._policy import Condition, Decision, Policy, Rule
from agentic.execution._policy_processor import PolicyProcessor
from agentic.execution._rate_limit import RateLimitProcessor, TokenBucket
from agentic.execution._redact import DEFAULT_SECRET_KEYS, REDACTED, is_secret_key, redact
from agentic.execution._retry import RetryProcessor
from agentic.execution._summary import SUMMARY_KEY, canonical_json, is_summary, summarize
from agentic.execution._targets import FunctionTarget, TargetMap
from agentic.execution._threads import ThreadRunner
from agentic.execution._timeout import TimeoutProcessor
from agentic.execution._validation import ValidationProcessor
from agentic.execution.types import CallNext, KeyFunc, Processor, Resolver, Sleep, Target

__all__ = [
    "DEFAULT_LINE_VALUE_BYTES",
    "DEFAULT_MAX_VALUE_BYTES",
    "DEFAULT_SECRET_KEYS",
    "REDACTED",
    "SUMMARY_KEY",
    "ArgumentValidationError",
    "AuditProcessor",
    "Call",
    "CallNext",
    "Chain",
    "ConcurrencyProcessor",
    "Condition",
    "Decision",
    "ExecutionError",
    "Executor",
    "ExecutorClosedError",
    "FunctionTarget",
    "InvocationTimeoutError",
    "KeyFunc",
    "Policy",
    "PolicyDeniedError",
    "PolicyError",
    "PolicyProcessor",
    "ProcessingError",
    "Processor",
    "RateLimitProcessor",
    "RateLimitedError",
    "Resolver",
    "RetryProcessor",
    "Rule",
    "Sleep",
    "Target",
    "TargetExitError",
    "TargetMap",
    "TargetNotFoundError",
    "ThreadRunner",
    "TimeoutProcessor",
    "TokenBucket",
    "ValidationProcessor",
    "by_target",
    "canonical_json",
    "default_chain",
    "fail_event",
    "invoke_event",
    "is_secret_key",
    "is_summary",
    "note",
    "redact",
    "summarize",
]
