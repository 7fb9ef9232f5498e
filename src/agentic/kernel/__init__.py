"""The kernel: workflow files and the runner that executes them, and the CLI's state model.

* Workflows: [`load_workflow()`][agentic.kernel.load_workflow] reads a TOML/JSON file
  into a [`Workflow`][agentic.kernel.Workflow]; a
  [`WorkflowRunner`][agentic.kernel.WorkflowRunner] runs its steps as Events.
* State: a [`Catalog`][agentic.kernel.Catalog] keeps elements, piles, progressions and
  branches in the event store, so separate `agentic-cli` invocations share them.

The state model loads with the package; the workflow model, the runner (and with it
the actor runtime, branches, providers and tools), the standard tools and replay load
on first access of one of their names (PEP 562), so a CLI command that only reads
state does not pay for the runtime. Every name below imports as before.
"""

import importlib as _importlib
import typing as _typing

from agentic.kernel._catalog import CATALOG_STREAM, ELEMENTS_STREAM, Catalog
from agentic.kernel._cli_types import Document, Note, Task, element_type, element_type_names
from agentic.kernel._errors import WorkflowCitationError, WorkflowCycleError, WorkflowError
from agentic.kernel._state_branches import BranchHistory
from agentic.kernel._state_errors import (
    CatalogError,
    CatalogInputError,
    EntryExistsError,
    EntryNotFoundError,
)
from agentic.kernel._state_names import NAME_PATTERN, check_name, resolve_id, short_id

if _typing.TYPE_CHECKING:
    from agentic.kernel._runner import (
        BRANCH_PREFIX,
        RunReport,
        StepReport,
        StepUpdate,
        WorkflowRunner,
    )
    from agentic.kernel._standard_tools import standard_tools
    from agentic.kernel._state_replay import ReplayReport, RunSummary, replay, run_summaries
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
    "CATALOG_STREAM",
    "ELEMENTS_STREAM",
    "NAME_PATTERN",
    "BranchHistory",
    "Catalog",
    "CatalogError",
    "CatalogInputError",
    "ChatStep",
    "Document",
    "EntryExistsError",
    "EntryNotFoundError",
    "Note",
    "ReplayReport",
    "RunReport",
    "RunSummary",
    "Step",
    "StepReport",
    "StepUpdate",
    "Task",
    "ToolStep",
    "Workflow",
    "WorkflowCitationError",
    "WorkflowCycleError",
    "WorkflowError",
    "WorkflowRunner",
    "check_name",
    "element_type",
    "element_type_names",
    "load_workflow",
    "parse_workflow",
    "replay",
    "resolve_id",
    "run_summaries",
    "short_id",
    "standard_tools",
]

# Public names loaded on first access, and the private module that defines each.
_LAZY = {
    **dict.fromkeys(
        ["BRANCH_PREFIX", "RunReport", "StepReport", "StepUpdate", "WorkflowRunner"],
        "agentic.kernel._runner",
    ),
    "standard_tools": "agentic.kernel._standard_tools",
    **dict.fromkeys(
        ["ReplayReport", "RunSummary", "replay", "run_summaries"], "agentic.kernel._state_replay"
    ),
    **dict.fromkeys(
        ["ChatStep", "Step", "ToolStep", "Workflow", "load_workflow", "parse_workflow"],
        "agentic.kernel._workflow",
    ),
}


def __getattr__(name: str) -> object:
    """Import a lazily loaded public name on first access (PEP 562) and keep it."""
    module = _LAZY.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the module's names, the lazily loaded ones included before their first access."""
    return sorted({*globals(), *__all__})
