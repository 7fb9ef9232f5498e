"""WorkflowRunner: run a workflow's steps as Events, in dependency order, in parallel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict

from agentic.actors import ActorSystem
from agentic.branches import spawn_branch
from agentic.errors import SerializationError
from agentic.execution import (
    Call,
    Executor,
    Policy,
    default_chain,
)
from agentic.kernel._citations import fill
from agentic.kernel._errors import WorkflowError
from agentic.kernel._run_targets import BRANCH_PREFIX, ChatTarget, RunResolver
from agentic.kernel._workflow import ChatStep, ToolStep, Workflow
from agentic.primitives import Event, EventStatus, Log, Pile, Progression
from agentic.providers import Provider
from agentic.store import EventStore, NewRecord
from agentic.tools import Tool, ToolRegistry

__all__ = ["BRANCH_PREFIX", "RunReport", "StepReport", "StepUpdate", "WorkflowRunner"]

# A chat step's wait on its Branch: the runner's step timeout (its TimeoutProcessor)
# is the one bound, so the handle's own bound only has to be longer than any run.
_CHAT_CALL_BOUND = 7 * 24 * 3600.0


class StepReport(BaseModel):
    """How one step ended."""

    model_config = ConfigDict(frozen=True)

    id: str
    """The step's id."""
    kind: Literal["tool", "chat"]
    """Tool call or chat."""
    target: str
    """The tool name, or `branch:<name>`."""
    status: EventStatus
    """Its terminal status."""
    duration: float | None
    """Seconds it ran."""
    result: Any = None
    """What it returned (completed steps)."""
    error: str | None = None
    """Why it failed, was denied or skipped."""
    event_id: str
    """The id of the step's Event."""


class RunReport(BaseModel):
    """How a workflow run ended."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    """The run's id (its stream in the event store is `run-<id>`)."""
    workflow: str
    """The workflow's name."""
    status: Literal["completed", "failed"]
    """Completed when every step completed."""
    started_at: datetime
    """When the run began (UTC)."""
    duration: float
    """Seconds from start to end."""
    steps: list[StepReport]
    """Every step, in declared order."""

    @property
    def ok(self) -> bool:
        """Whether every step completed."""
        return self.status == "completed"


class StepUpdate(BaseModel):
    """A progress notice: a step started or finished."""

    model_config = ConfigDict(frozen=True)

    step: str
    """The step's id."""
    phase: Literal["started", "finished"]
    """What happened."""
    status: EventStatus
    """The step's status now."""
    done: int
    """How many steps have finished."""
    total: int
    """How many steps there are."""


class WorkflowRunner:
    """Runs workflows: every step is a Call through one Executor's processor chain.

    * Steps run in dependency order; steps whose dependencies are met run at once, up
      to the workflow's `max_parallel`. The declared order is kept as a Progression
      (reports list steps in it).
    * A step whose dependency did not complete is **skipped**, with the reason.
    * A string argument (or chat message) may cite a dependency's result as
      `${steps.<id>.result}` (`$${` is a literal `${`); every `${` is checked to be a
      citation of a step the citing step depends on, before anything runs.
    * Chat steps go to Branches spawned for the run (one per branch name), whose own
      chains call the providers.
    * With a store, the run is recorded in stream `run-<id>`: `run.started` (the
      workflow), `step.finished` (each step's Event), `run.finished` (the report).

    Args:
        system: The actor system that hosts the run's Branches (and whose loop runs
            the executor).
        tools: Tools (or typed callables) steps may call.
        providers: Providers for chat steps (the offline provider by default).
        policy: The policy gate (default: allow every unguarded tool).
        store: Where to record runs (None: not recorded).
        timeout: Seconds per attempt of a step.
        on_update: Called (from the runtime's loop thread) when a step starts or ends.
    """

    def __init__(
        self,
        system: ActorSystem,
        *,
        tools: Iterable[Tool | Callable[..., Any]] = (),
        providers: Mapping[str, Provider] | Sequence[Provider] | None = None,
        policy: Policy | None = None,
        store: EventStore | None = None,
        timeout: float | None = 60.0,
        on_update: Callable[[StepUpdate], None] | None = None,
    ) -> None:
        self.system = system
        self.tools = ToolRegistry()
        for item in tools:
            self.tools.register(item)
        self.providers = providers
        self.policy = policy
        self.store = store
        self.timeout = timeout
        self.on_update = on_update
        self.logs: Pile[Log] = Pile(item_type=Log, name="workflow audit")
        """The audit Logs of every step run so far."""

    # -- checking -----------------------------------------------------------------------

    def check(self, workflow: Workflow) -> list[list[str]]:
        """Check that the workflow can run here; return its waves.

        Raises:
            WorkflowError: A step names an unknown tool, the plan is invalid (see
                `Workflow.waves`), or a citation is (see `Workflow.check_citations`).
        """
        waves = workflow.waves()
        workflow.check_citations()
        for step in workflow.steps:
            if isinstance(step, ToolStep) and step.tool not in self.tools:
                known = ", ".join(self.tools.names()) or "none"
                msg = f"step {step.id!r} calls unknown tool {step.tool!r} (known: {known})"
                raise WorkflowError(msg, step=step.id)
        return waves

    # -- running ------------------------------------------------------------------------

    def run(
        self, workflow: Workflow, *, run_id: str | None = None, timeout: float | None = None
    ) -> RunReport:
        """Run `workflow` to the end and return its report (blocks the calling thread).

        Args:
            workflow: The workflow.
            run_id: The run's id (generated if None).
            timeout: Seconds the whole run may take (None: no bound). A run past it
                is cancelled (its steps and Branches stopped) before this raises.

        Raises:
            WorkflowError: The workflow cannot run here (nothing has run).
            TimeoutError: The run did not finish within `timeout`.
        """
        self.check(workflow)
        future = self.system.run_coroutine(self._bounded(workflow, run_id, limit=timeout))
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. Ctrl-C in the calling thread: the run must not go on
            raise

    async def _bounded(
        self, workflow: Workflow, run_id: str | None, *, limit: float | None
    ) -> RunReport:
        # Inside the loop, so the cancelled run cleans up before the caller hears of it.
        bound = asyncio.timeout(limit)
        try:
            async with bound:
                return await self.arun(workflow, run_id=run_id)
        except TimeoutError as exc:
            if not bound.expired():  # a TimeoutError of the run's own
                raise
            msg = f"workflow {workflow.name!r} did not finish within {limit} s"
            raise TimeoutError(msg) from exc

    async def arun(self, workflow: Workflow, *, run_id: str | None = None) -> RunReport:
        """Run `workflow` on the current loop (the runtime's, via `run`)."""
        self.check(workflow)
        run = run_id or uuid4().hex[:12]
        order = Progression((uuid4() for _ in workflow.steps), name=f"run {run}")
        events = {
            step.id: self._event(step, workflow, run, key)
            for step, key in zip(workflow.steps, order, strict=True)
        }
        branches: dict[str, ChatTarget] = {}
        chain = default_chain(timeout=self.timeout, policy=self.policy, logs=self.logs, attempts=2)
        executor = Executor(RunResolver(self.tools, branches), chain, name=f"run {run}")
        started_at, clock = datetime.now(UTC), time.perf_counter()
        finished: dict[str, asyncio.Event] = {step.id: asyncio.Event() for step in workflow.steps}
        results: dict[str, Call] = {}
        slots = asyncio.Semaphore(workflow.max_parallel)
        total, done = len(workflow.steps), 0

        async def run_step(step: ToolStep | ChatStep) -> None:
            nonlocal done
            for need in step.depends_on:
                await finished[need].wait()
            event = events[step.id]
            failed = [n for n in step.depends_on if results[n].status is not EventStatus.COMPLETED]
            if failed:
                event.skip(
                    f"dependency {failed[0]!r} did not complete ({results[failed[0]].status})"
                )
            else:
                fill(event, results)
                async with slots:
                    self._notify(step.id, "started", EventStatus.PROCESSING, done, total)
                    await executor.submit(event)
            results[step.id] = event
            done += 1
            self._record(run, "step.finished", {"step": step.id, "event": event.to_dict()})
            self._notify(step.id, "finished", event.status, done, total)
            finished[step.id].set()

        tasks: list[asyncio.Task[None]] = []
        try:
            self._branches(workflow, run, branches)
            self._record(
                run, "run.started", {"workflow": workflow.model_dump(mode="json"), "run_id": run}
            )
            tasks = [asyncio.ensure_future(run_step(step)) for step in workflow.steps]
            await asyncio.gather(*tasks)
        finally:
            # A step that raised (or a cancelled run) must not leave the others waiting
            # for a dependency that will never finish.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await executor.stop(cancel_pending=True)
            for target in branches.values():
                await self.system.stop_async(target.branch.ref)
        reports = [_report(step, results[step.id]) for step in workflow.steps]
        report = RunReport(
            run_id=run,
            workflow=workflow.name,
            status="completed"
            if all(r.status is EventStatus.COMPLETED for r in reports)
            else "failed",
            started_at=started_at,
            duration=time.perf_counter() - clock,
            steps=reports,
        )
        self._record(run, "run.finished", report.model_dump(mode="json"))
        return report

    # -- internals ----------------------------------------------------------------------

    def _event(self, step: ToolStep | ChatStep, workflow: Workflow, run: str, key: UUID) -> Call:
        caller = f"workflow:{workflow.name}"
        meta = {"run_id": run, "step": step.id}
        if isinstance(step, ToolStep):
            return Call(
                id=key,
                target=step.tool,
                arguments=dict(step.args),
                caller=caller,
                kind="tool",
                metadata=meta,
            )
        arguments = {"message": step.message}
        if step.system:  # set on the branch just before this step's message
            arguments["system"] = step.system
        return Call(
            id=key,
            target=BRANCH_PREFIX + step.branch,
            arguments=arguments,
            caller=caller,
            kind="chat",
            metadata=meta,
        )

    def _branches(self, workflow: Workflow, run: str, chats: dict[str, ChatTarget]) -> None:
        # Fills `chats` as it goes, so a failure part-way still stops those spawned.
        for step in workflow.steps:
            if isinstance(step, ChatStep) and step.branch not in chats:
                ref = spawn_branch(
                    self.system,
                    f"{step.branch}-{run}",
                    tools=list(self.tools),
                    providers=self.providers,
                    policy=self.policy,
                    call_timeout=_CHAT_CALL_BOUND,
                )
                chats[step.branch] = ChatTarget(step.branch, ref, max_steps=8)

    def _notify(
        self,
        step: str,
        phase: Literal["started", "finished"],
        status: EventStatus,
        done: int,
        total: int,
    ) -> None:
        if self.on_update is not None:
            self.on_update(
                StepUpdate(step=step, phase=phase, status=status, done=done, total=total)
            )

    def _record(self, run: str, kind: str, payload: dict[str, Any]) -> None:
        if self.store is None:
            return
        try:
            self.store.append(f"run-{run}", [NewRecord(kind, payload, correlation_id=run)])
        except SerializationError:
            # A result may hold an integer beyond the store's 64 bits (the executor keeps
            # it exact): record it as its decimal text rather than lose the whole run.
            # Nothing was written, so appending again cannot duplicate the record.
            storable = _wide_ints_as_text(payload)
            self.store.append(f"run-{run}", [NewRecord(kind, storable, correlation_id=run)])


_INT_RANGE = (-(2**63), 2**64 - 1)


def _wide_ints_as_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = _INT_RANGE
        return value if low <= value <= high else str(value)
    if isinstance(value, dict):
        return {key: _wide_ints_as_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_wide_ints_as_text(item) for item in value]
    return value


def _report(step: ToolStep | ChatStep, event: Event) -> StepReport:
    execution = event.execution
    error = None
    if event.status is not EventStatus.COMPLETED:
        error = execution.error.message if execution.error else execution.reason
    return StepReport(
        id=step.id,
        kind="tool" if isinstance(step, ToolStep) else "chat",
        target=event.target if isinstance(event, Call) else step.id,
        status=event.status,
        duration=execution.duration,
        result=execution.response,
        error=error,
        event_id=str(event.id),
    )
