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

# agentic-cli's state model (appended by the CLI helper).
from agentic.kernel._catalog import CATALOG_STREAM, ELEMENTS_STREAM, Catalog
from agentic.kernel._cli_types import Document, Note, Task, element_type, element_type_names
from agentic.kernel._state_branches import BranchHistory
from agentic.kernel._state_errors import (
    CatalogError,
    CatalogInputError,
    EntryExistsError,
    EntryNotFoundError,
)
from agentic.kernel._state_names import NAME_PATTERN, check_name, resolve_id, short_id
from agentic.kernel._state_replay import ReplayReport, RunSummary, replay, run_summaries

__all__ += [
    "CATALOG_STREAM",
    "ELEMENTS_STREAM",
    "NAME_PATTERN",
    "BranchHistory",
    "Catalog",
    "CatalogError",
    "CatalogInputError",
    "Document",
    "EntryExistsError",
    "EntryNotFoundError",
    "Note",
    "ReplayReport",
    "RunSummary",
    "Task",
    "check_name",
    "element_type",
    "element_type_names",
    "replay",
    "resolve_id",
    "run_summaries",
    "short_id",
]
