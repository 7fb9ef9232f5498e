"""The kernel: workflow files and the runner that executes them."""

from agentic.kernel._errors import WorkflowCycleError, WorkflowError
from agentic.kernel._runner import BRANCH_PREFIX, RunReport, StepReport, StepUpdate, WorkflowRunner
from agentic.kernel._standard_tools import standard_tools
from agentic.kernel._workflow import (
    ChatStep,
    Step,
    ToolStep,
    Workflow,
    load_workflow,
    parse_workflow,
)

__all__ = [
    "BRANCH_PREFIX",
    "ChatStep",
    "RunReport",
    "Step",
    "StepReport",
    "StepUpdate",
    "ToolStep",
    "Workflow",
    "WorkflowCycleError",
    "WorkflowError",
    "WorkflowRunner",
    "load_workflow",
    "parse_workflow",
    "standard_tools",
]
