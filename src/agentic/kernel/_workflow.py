"""Workflow files: steps, their dependencies, and the plan that orders them."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agentic.kernel._citations import check_citations
from agentic.kernel._errors import WorkflowCycleError, WorkflowError

__all__ = ["ChatStep", "Step", "ToolStep", "Workflow", "load_workflow", "parse_workflow"]

_MAX_STEPS = 10_000
_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"


class _StepBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=_ID_PATTERN)]
    """The step's name, unique in the workflow; other steps depend on it by this name."""
    depends_on: list[str] = Field(default_factory=list)
    """Steps that must complete before this one starts."""
    description: str | None = None
    """What the step is for."""


class ToolStep(_StepBase):
    """Call a tool with arguments."""

    kind: Literal["tool"] = "tool"
    tool: Annotated[str, Field(min_length=1, max_length=200)]
    """The tool's registered name."""
    args: dict[str, Any] = Field(default_factory=dict)
    """Its arguments; strings may cite a dependency's result as `${steps.<id>.result}`
    (`$${` is a literal `${`)."""


class ChatStep(_StepBase):
    """Send a message to a Branch and take its reply."""

    kind: Literal["chat"] = "chat"
    branch: Annotated[str, Field(pattern=_ID_PATTERN)] = "main"
    """The branch that answers: a Branch the run creates (one per name, `<branch>-<run id>`)
    and stops when it ends; steps naming the same branch share its conversation."""
    message: Annotated[str, Field(min_length=1, max_length=100_000)]
    """The user message; may cite a dependency's result as `${steps.<id>.result}`
    (`$${` is a literal `${`)."""
    system: str | None = None
    """A system prompt for the branch, set just before this step's message (unless it is
    already the prompt the run set last on that branch); may cite like the message."""


Step = Annotated[ToolStep | ChatStep, Field(discriminator="kind")]
"""One step of a workflow."""


class Workflow(BaseModel):
    """A named list of steps, in declared order, with dependencies between them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    """What the workflow is called."""
    description: str | None = None
    """What it does."""
    max_parallel: Annotated[int, Field(ge=1, le=1000)] = 8
    """How many independent steps may run at once."""
    steps: Annotated[list[Step], Field(min_length=1, max_length=_MAX_STEPS)]
    """The steps, in declared order."""

    @model_validator(mode="before")
    @classmethod
    def _fill_kind(cls, data: Any) -> Any:
        # A step says what it is by its keys (`tool = ...` or `message = ...`); spelling
        # out `kind` is optional.
        if isinstance(data, dict) and isinstance(data.get("steps"), list):
            steps = []
            for step in data["steps"]:
                if isinstance(step, dict) and "kind" not in step:
                    kind = "tool" if "tool" in step else "chat" if "message" in step else None
                    step = {**step, "kind": kind} if kind else step  # noqa: PLW2901
                steps.append(step)
            data = {**data, "steps": steps}
        return data

    def step(self, step_id: str) -> ToolStep | ChatStep:
        """Return the step called `step_id`.

        Raises:
            WorkflowError: No step has that id.
        """
        for step in self.steps:
            if step.id == step_id:
                return step
        msg = f"workflow {self.name!r} has no step {step_id!r}"
        raise WorkflowError(msg, step=step_id)

    def check_citations(self) -> None:
        """Check every `${` in the steps' arguments, messages and system prompts.

        Each must open a citation `${steps.<id>.result}` of a step the citing step
        depends on, or be escaped as `$${` (a literal `${`).

        Raises:
            WorkflowCitationError: One does not; the message names the step, the
                argument and the citation, and suggests the valid form.
        """
        check_citations(self.steps)

    def waves(self) -> list[list[str]]:
        """Return the steps grouped into waves that can run in order.

        Every step of a wave depends only on steps of earlier waves; within a wave,
        steps keep their declared order.

        Raises:
            WorkflowError: A step repeats an id or depends on a step that does not exist.
            WorkflowCycleError: The dependencies form a cycle.
        """
        order = [step.id for step in self.steps]
        deps = {step.id: list(dict.fromkeys(step.depends_on)) for step in self.steps}
        if len(deps) != len(order):
            duplicate = next(i for i in order if order.count(i) > 1)
            msg = f"workflow {self.name!r} has two steps called {duplicate!r}"
            raise WorkflowError(msg, step=duplicate)
        for step_id, needs in deps.items():
            for need in needs:
                if need not in deps:
                    msg = f"step {step_id!r} depends on {need!r}, which is not a step"
                    raise WorkflowError(msg, step=step_id)
                if need == step_id:
                    msg = f"step {step_id!r} depends on itself"
                    raise WorkflowCycleError(msg, cycle=[step_id, step_id])
        cycle = _find_cycle(order, deps)
        if cycle:
            path = " -> ".join(cycle)
            msg = f"workflow {self.name!r} has a dependency cycle: {path}"
            raise WorkflowCycleError(msg, cycle=cycle)
        level: dict[str, int] = {}
        for step_id in _topological(order, deps):
            level[step_id] = 1 + max((level[n] for n in deps[step_id]), default=-1)
        waves: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
        for step_id in order:
            waves[level[step_id]].append(step_id)
        return waves


def _topological(order: list[str], deps: dict[str, list[str]]) -> list[str]:
    done: set[str] = set()
    result: list[str] = []
    for root in order:
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node, i = stack.pop()
            if node in done:
                continue
            needs = deps[node]
            if i < len(needs):
                stack.append((node, i + 1))
                if needs[i] not in done:
                    stack.append((needs[i], 0))
            else:
                done.add(node)
                result.append(node)
    return result


def _find_cycle(order: list[str], deps: dict[str, list[str]]) -> list[str]:
    # Iterative three-colour depth-first search; returns the first cycle found.
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(order, white)
    for root in order:
        if colour[root] != white:
            continue
        path: list[str] = [root]
        iters = [iter(deps[root])]
        colour[root] = grey
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                colour[path.pop()] = black
                iters.pop()
            elif colour[nxt] == grey:
                return [*path[path.index(nxt) :], nxt]
            elif colour[nxt] == white:
                colour[nxt] = grey
                path.append(nxt)
                iters.append(iter(deps[nxt]))
    return []


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            msg = f"duplicate key {key!r}"
            raise ValueError(msg)
        result[key] = value
    return result


def parse_workflow(
    text: str | bytes, *, fmt: Literal["toml", "json"], source: str = "<workflow>"
) -> Workflow:
    """Parse and check a workflow document.

    The plan is checked too (ids, dependencies, cycles, citations), so a bad workflow
    is rejected before anything runs.

    Raises:
        WorkflowError: The document is not valid TOML/JSON or does not describe a
            valid workflow; the message names the source and the field or step.
        WorkflowCycleError: The steps' dependencies form a cycle.
        WorkflowCitationError: A `${...}` is no valid citation of a dependency's result.
    """
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if fmt == "toml":
            data: Any = tomllib.loads(text)
        else:
            data = json.loads(text, object_pairs_hook=_reject_duplicates)
    except UnicodeDecodeError as exc:
        msg = f"{source}: not valid UTF-8 (byte {exc.start})"
        raise WorkflowError(msg, source=source) from exc
    except (tomllib.TOMLDecodeError, ValueError, RecursionError) as exc:
        msg = f"{source}: malformed {fmt.upper()}: {exc}"
        raise WorkflowError(msg, source=source) from exc
    if not isinstance(data, dict):
        msg = f"{source}: a workflow must be a table/object, not {type(data).__name__}"
        raise WorkflowError(msg, source=source)
    try:
        workflow = Workflow.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(workflow)"
        msg = f"{source}: invalid workflow at {where}: {_detail(first)}"
        raise WorkflowError(msg, source=source) from exc
    except RecursionError as exc:
        msg = f"{source}: workflow document is nested too deeply"
        raise WorkflowError(msg, source=source) from exc
    try:
        workflow.waves()
        workflow.check_citations()
    except WorkflowError as exc:
        exc.source = source
        exc.args = (f"{source}: {exc}",)
        raise
    return workflow


def _detail(error: Any) -> str:
    # A step is a tool step or a chat step by its keys: with neither key (a typo such as
    # `tol = ...`), pydantic can only say it found no tag; say which keys it has.
    step = error.get("input")
    if error["type"] == "union_tag_not_found" and isinstance(step, dict):
        name = f"step {step['id']!r}" if isinstance(step.get("id"), str) else "the step"
        keys = ", ".join(str(key) for key in step) or "none"
        return f"{name} has neither 'tool' nor 'message' (keys: {keys})"
    return str(error["msg"])


def load_workflow(path: str | Path) -> Workflow:
    """Read, parse and check a workflow file (`.toml` or `.json`).

    Raises:
        WorkflowError: The file cannot be read or is not a valid workflow.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".toml", ".json"}:
        msg = f"{path}: a workflow file must end in .toml or .json"
        raise WorkflowError(msg, source=str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read workflow file: {exc.strerror or exc}"
        raise WorkflowError(msg, source=str(path)) from exc
    return parse_workflow(data, fmt="toml" if suffix == ".toml" else "json", source=str(path))
