"""The kernel: workflow files and the runner that executes them."""

from agentic.kernel._errors import WorkflowCycleError, WorkflowError
from agentic.kernel._workflow import (
    ChatStep,
    Step,
    ToolStep,
    Workflow,
    load_workflow,
    parse_workflow,
)

__all__ = [
    "ChatStep",
    "Step",
    "ToolStep",
    "Workflow",
    "WorkflowCycleError",
    "WorkflowError",
    "load_workflow",
    "parse_workflow",
]
