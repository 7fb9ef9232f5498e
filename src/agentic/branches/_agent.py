"""The agent loop of a Branch: chat turns with tools, plans, and structured answers.

Everything here runs in the Branch's handlers (its actor thread). A model or tool call
is a [`Call`][agentic.execution.Call] handed to the executor; its outcome comes back
as a later message and continues the run at the matching step below.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import orjson

from agentic.branches._agent_text import as_text, chat_result, plan_texts, structured_value
from agentic.branches._chain import copy_event
from agentic.branches._convert import to_chat_messages
from agentic.branches._errors import ChatFailedError, RequestCancelledError
from agentic.branches._messages import (
    AssistantMessage,
    Message,
    SystemMessage,
    ToolCallMessage,
    ToolResultMessage,
    UserMessage,
)
from agentic.branches._protocol import (
    Chat,
    ChatDelta,
    ChatModel,
    PlanResult,
    PlanStep,
    RunPlan,
    StructuredResult,
    stream_topic,
)
from agentic.branches._runs import ChatRun, Finish, ModelRun, PlanRun
from agentic.execution import Call
from agentic.primitives import Event, EventStatus, Pile
from agentic.providers import ChatMessage, ChatResponse, StructuredOutputError

if TYPE_CHECKING:
    from agentic.actors import ActorContext
    from agentic.branches._message_manager import MessageManager
    from agentic.branches._provider_manager import ProviderManager
    from agentic.branches._tool_manager import ToolManager

__all__ = ["PLAN_INSTRUCTION", "AgentLoop"]

PLAN_INSTRUCTION = (
    "Break the user's goal into a short list of concrete steps. Answer with one JSON "
    'object, in a ```json block: {"steps": ["first step", "second step", ...]}'
)
"""The system message that asks the model for a plan."""


class AgentLoop:
    """The turn logic a [`Branch`][agentic.branches.Branch] mixes in (not used alone)."""

    messages: MessageManager
    tools: ToolManager
    providers: ProviderManager
    steps: Pile[PlanStep] | None

    def plan_steps(self) -> Pile[PlanStep]:
        """Return the Pile of plan steps, made on first use (most Branches never plan)."""
        if self.steps is None:
            self.steps = Pile(item_type=PlanStep, name="steps")
        return self.steps

    if TYPE_CHECKING:  # provided by Actor and by Branch

        @property
        def context(self) -> ActorContext:
            """The actor context."""

        def _submit(self, event: Event, step: str, *args: Any) -> None: ...

    # -- shared ---------------------------------------------------------------------

    def _add(self, added: list[str], message: Message) -> Message:
        self.messages.add(message)
        added.append(str(message.id))
        return message

    def _notify(self, run: ChatRun, message: Message) -> None:
        """Show a streaming chat's reader a tool call as it starts, a result as it ends."""
        request = run.request
        if request.stream and request.ticket is not None:
            topic = stream_topic(self.context.name, request.ticket)
            self.context.publish(topic, ChatDelta(step=run.steps, text="", message=message))

    def _provider_call(
        self,
        provider: str | None,
        conversation: list[ChatMessage],
        tools: list[Any],
        stream: dict[str, Any] | None = None,
    ) -> Call:
        arguments: dict[str, Any] = {
            "messages": [m.model_dump(mode="json") for m in conversation],
            "tools": [t.model_dump(mode="json") for t in tools],
        }
        if stream is not None:
            arguments["stream"] = stream
        return Call(
            target=self.providers.target_name(provider),
            arguments=arguments,
            caller=self.context.name,
            kind="provider",
        )

    def _resume(self, step: str, args: tuple[Any, ...], event: Event) -> None:
        """Continue with `self.<step>(*args, event)`; a bug there ends its run first.

        Steps are named, not bound, so after a restart the new Branch object continues.
        """
        try:
            getattr(self, step)(*args, event)
        except Exception as exc:
            run = args[0] if args else None
            if isinstance(run, (ChatRun, PlanRun, ModelRun)):
                # The caller waiting on the turn must hear of it, not only the supervisor.
                self._end(run, None, exc)
            raise

    def _end(self, run: ChatRun | PlanRun | ModelRun, result: Any, error: Exception | None) -> None:
        if run.done:
            return
        run.done = True
        if run.cancelled is not None:
            result, error = None, run.cancelled
        name, args = run.finish
        getattr(self, name)(*args, result, error)

    def _response(
        self, run: ChatRun | PlanRun | ModelRun, event: Event, what: str
    ) -> ChatResponse | None:
        """Return the response to `run`'s model call; None once a done or failed run is ended."""
        if run.done:
            return None
        if event.status is not EventStatus.COMPLETED:
            self._end(run, None, self._failed(event, what))
            return None
        return ChatResponse.model_validate(event.execution.response)

    def _failed(self, event: Event, what: str) -> ChatFailedError:
        execution = event.execution
        why = execution.error.message if execution.error else execution.reason or event.status
        name = self.context.name
        msg = f"branch {name!r}: {what} {event.id} ended {event.status}: {why}"
        return ChatFailedError(msg, branch=name, event=copy_event(event))

    # -- chat -----------------------------------------------------------------------

    def _start_chat(self, request: Chat, finish: Finish) -> ChatRun:
        run = ChatRun(request=request, finish=finish)
        self._add(run.added, UserMessage(content=request.text))
        self._ask_model(run)
        return run

    def _ask_model(self, run: ChatRun) -> None:
        conversation = to_chat_messages(self.messages.read())
        tools = self.tools.specs() if run.request.use_tools else []
        run.steps += 1
        request, stream = run.request, None
        if request.stream and request.ticket is not None:
            stream = {"topic": stream_topic(self.context.name, request.ticket), "step": run.steps}
        call = self._provider_call(request.provider, conversation, tools, stream)
        self._submit(call, "_model_done", run)

    def _model_done(self, run: ChatRun, event: Event) -> None:
        response = self._response(run, event, "provider call")
        if response is None:
            return
        run.usage.add(response.usage.model_dump(), response.cost)
        if response.content or not response.tool_calls:
            reply = AssistantMessage(
                content=response.content,
                provider=response.provider or None,
                usage=response.usage.model_dump(),
                cost=response.cost,
            )
            self._add(run.added, reply)
            run.reply = reply
        if not response.tool_calls:
            self._end(run, chat_result(run, "answer"), None)
            return
        run.reply = None
        run.batch = [request.id for request in response.tool_calls]
        run.results = {}
        for request in response.tool_calls:
            message = ToolCallMessage(
                call_id=request.id, tool=request.name, arguments=request.arguments
            )
            self._add(run.added, message)
            self._notify(run, message)
        # Every call of the batch starts before any finishes: they run concurrently.
        for index, request in enumerate(response.tool_calls):
            call = Call(
                target=request.name,
                arguments=request.arguments,
                caller=self.context.name,
                kind="tool",
            )
            call.metadata["tool_call_id"] = request.id
            self._submit(call, "_tool_done", run, index, request.id, request.name)

    def _tool_done(self, run: ChatRun, index: int, call_id: str, tool: str, event: Event) -> None:
        if run.done:
            return
        execution = event.execution
        if event.status is EventStatus.COMPLETED:
            content, is_error = as_text(execution.response), False
        else:
            detail = execution.error.message if execution.error else execution.reason or ""
            content, is_error = f"error: tool {tool!r} {event.status}: {detail}", True
        # Keyed by position: a model may (wrongly) repeat a call id within one answer.
        run.results[index] = result = ToolResultMessage(
            call_id=call_id, tool=tool, content=content, is_error=is_error, event_id=str(event.id)
        )
        self._notify(run, result)  # as it finishes; the conversation takes it in call order
        if len(run.results) < len(run.batch):
            return
        # Results enter the conversation together, in the model's order of the calls,
        # whatever order they finished in: the conversation is deterministic.
        for key in range(len(run.batch)):
            self._add(run.added, run.results[key])
        run.tool_calls += len(run.batch)
        run.batch, run.results = [], {}
        if run.steps >= run.request.max_steps:
            self._end(run, chat_result(run, "max_steps"), None)
        else:
            self._ask_model(run)

    # -- plan -----------------------------------------------------------------------

    def _start_plan(self, request: RunPlan, finish: Finish) -> PlanRun:
        run = PlanRun(request=request, finish=finish, plan=uuid.uuid4())
        if request.steps:
            run.texts, run.source = list(request.steps), "given"
            self._next_step(run)
            return run
        self._add(run.added, UserMessage(content=f"Goal: {request.goal}"))
        conversation = [
            ChatMessage.system(PLAN_INSTRUCTION),
            *to_chat_messages(self.messages.read()),
        ]
        call = self._provider_call(request.provider, conversation, [])
        self._submit(call, "_plan_done", run)
        return run

    def _plan_done(self, run: PlanRun, event: Event) -> None:
        response = self._response(run, event, "planning call")
        if response is None:
            return
        self._add(
            run.added,
            AssistantMessage(
                content=response.content,
                provider=response.provider or None,
                usage=response.usage.model_dump(),
                cost=response.cost,
            ),
        )
        texts = plan_texts(response.content)
        run.texts, run.source = (texts, "model") if texts else ([run.request.goal], "goal")
        self._next_step(run)

    def _next_step(self, run: PlanRun) -> None:
        index = len(run.steps)
        if index >= len(run.texts):
            completed = all(step.status == "done" for step in run.steps)
            result = PlanResult(
                plan=run.plan,
                goal=run.request.goal,
                source=run.source,
                steps=run.steps,
                completed=completed,
            )
            self._end(run, result, None)
            return
        total = len(run.texts)
        request = Chat(
            text=f"Step {index + 1} of {total}: {run.texts[index]}",
            provider=run.request.provider,
            max_steps=run.request.max_steps,
            use_tools=run.request.use_tools,
        )
        run.current = self._start_chat(request, ("_step_done", (run, index)))

    def _step_done(self, run: PlanRun, index: int, result: Any, error: Exception | None) -> None:
        chat = run.current
        added = chat.added if chat is not None else []
        run.added.extend(added)
        if error is not None:
            cancelled = isinstance(error, RequestCancelledError)
            status, text = ("cancelled" if cancelled else "failed"), str(error)
        else:
            status = "done" if result.stopped == "answer" else "max_steps"
            text = result.content
        step = PlanStep(
            plan=run.plan,
            index=index,
            text=run.texts[index],
            status=status,
            result=text,
            message_ids=list(added),
        )
        self.plan_steps().include(step)
        run.steps.append(step)
        if error is not None:
            run.texts = run.texts[: index + 1]  # a failed step ends the plan
        self._next_step(run)

    # -- structured -----------------------------------------------------------------

    def _start_structured(self, request: ChatModel, finish: Finish) -> ModelRun:
        run = ModelRun(request=request, finish=finish)
        self._add(run.added, UserMessage(content=request.text))
        self._ask_structured(run)
        return run

    def _ask_structured(self, run: ModelRun) -> None:
        schema = orjson.dumps(run.request.json_schema, option=orjson.OPT_INDENT_2).decode()
        instruction = SystemMessage(
            content="Answer with one JSON object that matches this JSON Schema, in a "
            f"```json block:\n```json\n{schema}\n```"
        )
        conversation = to_chat_messages([instruction, *self.messages.read()])
        run.attempts += 1
        call = self._provider_call(run.request.provider, conversation, [])
        self._submit(call, "_structured_done", run)

    def _structured_done(self, run: ModelRun, event: Event) -> None:
        response = self._response(run, event, "provider call")
        if response is None:
            return
        run.usage.add(response.usage.model_dump(), response.cost)
        reply = AssistantMessage(
            content=response.content,
            provider=response.provider or None,
            usage=response.usage.model_dump(),
            cost=response.cost,
        )
        self._add(run.added, reply)
        try:
            value = structured_value(response.content, run.request)
        except StructuredOutputError as error:
            if run.attempts > run.request.repair_rounds:
                self._end(run, None, error)
                return
            repair = (
                f"Your last answer could not be used: {error}. "
                "Reply with only the corrected JSON object in a ```json block."
            )
            self._add(run.added, UserMessage(content=repair))
            self._ask_structured(run)
            return
        result = StructuredResult(
            value=value, reply=reply, attempts=run.attempts, message_ids=list(run.added)
        )
        self._end(run, result, None)
