"""WorkflowRunner: steps as Events, dependency order, parallelism, records."""

from __future__ import annotations

import asyncio
import math
import threading
from typing import Any

import pytest

from agentic.actors import ActorSystem
from agentic.kernel import (
    StepUpdate,
    Workflow,
    WorkflowError,
    WorkflowRunner,
    parse_workflow,
    standard_tools,
)
from agentic.primitives import EventStatus
from agentic.providers import OfflineProvider, ProviderBadRequestError
from agentic.store import SQLiteEventStore


@pytest.fixture
def system():
    with ActorSystem("test-runner") as system:
        yield system


def wf(text: str) -> Workflow:
    return parse_workflow(text, fmt="toml")


DIAMOND = """
name = "diamond"
[[steps]]
id = "a"
tool = "echo"
args = { text = "one two three" }
[[steps]]
id = "b"
tool = "word_count"
args = { text = "${steps.a.result}" }
depends_on = ["a"]
[[steps]]
id = "c"
tool = "uppercase"
args = { text = "${steps.a.result}" }
depends_on = ["a"]
[[steps]]
id = "d"
tool = "echo"
args = { text = "${steps.b.result} ${steps.c.result}" }
depends_on = ["b", "c"]
"""


class TestOrder:
    def test_results_flow_through_citations(self, system):
        """A step sees its dependencies' results where it cites them."""
        report = WorkflowRunner(system, tools=standard_tools()).run(wf(DIAMOND))
        assert report.ok
        by_id = {s.id: s for s in report.steps}
        assert by_id["b"].result == {"words": 3, "lines": 1, "chars": 13}
        assert by_id["d"].result == '{"words":3,"lines":1,"chars":13} ONE TWO THREE'
        assert [s.id for s in report.steps] == ["a", "b", "c", "d"]

    def test_dependencies_finish_before_dependents_start(self, system):
        """Progress shows every dependency finished before its dependent started."""
        updates: list[StepUpdate] = []
        runner = WorkflowRunner(system, tools=standard_tools(), on_update=updates.append)
        runner.run(wf(DIAMOND))
        seen = [(u.step, u.phase) for u in updates]
        for dep, step in [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]:
            assert seen.index((dep, "finished")) < seen.index((step, "started"))
        assert updates[-1].done == updates[-1].total == 4

    def test_independent_steps_run_at_once(self, system):
        """Steps of one wave overlap: each waits at a barrier only all of them can pass."""
        barrier = threading.Barrier(3, timeout=10)

        async def meet(name: str) -> str:
            await asyncio.to_thread(barrier.wait)
            return name

        text = 'name = "w"\n' + "".join(
            f'[[steps]]\nid = "s{i}"\ntool = "meet"\nargs = {{ name = "s{i}" }}\n' for i in range(3)
        )
        report = WorkflowRunner(system, tools=[meet]).run(wf(text), timeout=30)
        assert report.ok, report

    def test_max_parallel_bounds_concurrency(self, system):
        """No more than max_parallel steps are in flight."""
        active = 0
        peak = 0

        async def work() -> int:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.01)
            active -= 1
            return peak

        text = 'name = "w"\nmax_parallel = 2\n' + "".join(
            f'[[steps]]\nid = "s{i}"\ntool = "work"\n' for i in range(6)
        )
        assert WorkflowRunner(system, tools=[work]).run(wf(text)).ok
        assert peak == 2


class TestFailures:
    def test_failed_dependency_skips_dependents(self, system):
        """A step whose dependency failed is skipped with the reason; others still run."""

        def boom() -> str:
            raise RuntimeError("kaput")

        text = """
name = "f"
[[steps]]
id = "bad"
tool = "boom"
[[steps]]
id = "after"
tool = "echo"
args = { text = "x" }
depends_on = ["bad"]
[[steps]]
id = "free"
tool = "echo"
args = { text = "y" }
"""
        report = WorkflowRunner(system, tools=[boom, *standard_tools()]).run(wf(text))
        by_id = {s.id: s for s in report.steps}
        assert report.status == "failed"
        assert by_id["bad"].status is EventStatus.FAILED
        assert "kaput" in (by_id["bad"].error or "")
        assert by_id["after"].status is EventStatus.SKIPPED
        assert by_id["after"].error == "dependency 'bad' did not complete (failed)"
        assert by_id["free"].status is EventStatus.COMPLETED

    def test_unknown_tool_rejected_before_anything_runs(self, system, tmp_path):
        """A step naming an unknown tool fails the check; nothing runs or is recorded."""
        text = 'name = "u"\n[[steps]]\nid = "a"\ntool = "echo"\nargs = {text = "x"}\n[[steps]]\nid = "b"\ntool = "nope"\n'
        with SQLiteEventStore(tmp_path / "e.db") as store:
            runner = WorkflowRunner(system, tools=standard_tools(), store=store)
            with pytest.raises(WorkflowError, match="step 'b' calls unknown tool 'nope'"):
                runner.run(wf(text))
            assert store.last_position() == 0

    def test_citation_without_dependency_rejected(self, system):
        """Citing a step's result without depending on it is an error up front."""
        text = 'name = "c"\n[[steps]]\nid = "a"\ntool = "echo"\nargs = {text = "x"}\n[[steps]]\nid = "b"\ntool = "echo"\nargs = {text = "${steps.a.result}"}\n'
        with pytest.raises(
            WorkflowError, match="cites the result of 'a' but does not depend on it"
        ):
            WorkflowRunner(system, tools=standard_tools()).check(wf(text))

    def test_bad_arguments_fail_the_step(self, system):
        """Arguments the tool's schema rejects fail that step with the validation error."""
        text = 'name = "v"\n[[steps]]\nid = "a"\ntool = "add"\nargs = {a = "one", b = 2}\n'
        report = WorkflowRunner(system, tools=standard_tools()).run(wf(text))
        assert report.steps[0].status is EventStatus.FAILED
        assert "a" in (report.steps[0].error or "")


class TestCitations:
    def test_a_cited_result_is_not_substituted_again(self, system):
        """A result that itself reads like a citation goes in verbatim, never re-read."""

        def quote() -> str:
            """Return text that looks like a citation."""
            return "${steps.b.result}"

        text = """
name = "quote"
[[steps]]
id = "a"
tool = "quote"
[[steps]]
id = "b"
tool = "echo"
args = { text = "b" }
[[steps]]
id = "c"
tool = "echo"
args = { text = "${steps.a.result}|${steps.b.result}" }
depends_on = ["a", "b"]
"""
        report = WorkflowRunner(system, tools=[quote, *standard_tools()]).run(wf(text))
        assert report.steps[2].result == "${steps.b.result}|b"

    def test_nested_arguments_and_structured_results(self, system):
        """Citations in nested lists and tables are filled; a list or table cites as JSON."""

        def pair(items: list[str], meta: dict[str, str]) -> list[Any]:
            """Return both arguments."""
            return [items, meta]

        text = """
name = "nested"
[[steps]]
id = "k"
tool = "keywords"
args = { text = "alpha alpha beta gamma" , top = 2 }
[[steps]]
id = "p"
tool = "pair"
args = { items = ["${steps.k.result}", "x"], meta = { from = "k=${steps.k.result}" } }
depends_on = ["k"]
"""
        report = WorkflowRunner(system, tools=[pair, *standard_tools()]).run(wf(text), timeout=30)
        assert report.ok, report
        assert report.steps[1].result == [
            ['["alpha","beta"]', "x"],
            {"from": 'k=["alpha","beta"]'},
        ]

    def test_a_tool_result_shaped_like_a_chat_reply_cites_whole(self, system):
        """Only a chat step's result cites as its reply; a tool's table cites as JSON."""

        def lookalike() -> dict[str, str]:
            """Return a table with reply and stopped keys."""
            return {"reply": "r", "stopped": "no"}

        text = """
name = "lookalike"
[[steps]]
id = "t"
tool = "lookalike"
[[steps]]
id = "e"
tool = "echo"
args = { text = "${steps.t.result}" }
depends_on = ["t"]
"""
        report = WorkflowRunner(system, tools=[lookalike, *standard_tools()]).run(wf(text))
        assert report.steps[1].result == '{"reply":"r","stopped":"no"}'


class TestRecords:
    def test_run_is_recorded(self, system, tmp_path):
        """A run leaves run.started, one step.finished per step, and run.finished."""
        with SQLiteEventStore(tmp_path / "e.db") as store:
            report = WorkflowRunner(system, tools=standard_tools(), store=store).run(wf(DIAMOND))
            records = list(store.read(f"run-{report.run_id}"))
        kinds = [r.type for r in records]
        assert kinds[0] == "run.started"
        assert kinds[-1] == "run.finished"
        assert kinds.count("step.finished") == 4
        assert records[-1].payload["status"] == "completed"
        assert {r.payload["step"] for r in records if r.type == "step.finished"} == {
            "a",
            "b",
            "c",
            "d",
        }

    def test_a_result_beyond_64_bits_is_recorded_and_cited(self, system, tmp_path):
        """An integer result too big for the store's JSON is kept whole, not fatal to the run."""

        def factorial(n: int) -> int:
            """Return n!."""
            return math.factorial(n)

        text = """
name = "big"
[[steps]]
id = "f"
tool = "factorial"
args = { n = 25 }
[[steps]]
id = "e"
tool = "echo"
args = { text = "25! = ${steps.f.result}" }
depends_on = ["f"]
[[steps]]
id = "other"
tool = "echo"
args = { text = "still runs" }
"""
        exact = math.factorial(25)
        with SQLiteEventStore(tmp_path / "e.db") as store:
            runner = WorkflowRunner(system, tools=[factorial, *standard_tools()], store=store)
            report = runner.run(wf(text), timeout=30)
            records = list(store.read(f"run-{report.run_id}"))
        assert report.ok, report
        assert report.steps[0].result == exact
        assert report.steps[1].result == f"25! = {exact}"
        assert [r.type for r in records][-1] == "run.finished"
        stored = next(r for r in records if r.payload.get("step") == "f")
        assert stored.payload["event"]["execution"]["response"] == str(exact)
        assert records[-1].payload["steps"][0]["result"] == str(exact)


class TestChat:
    def test_chat_step_answers_through_a_branch(self, system):
        """A chat step sends its message to a branch and returns the reply."""
        text = """
name = "chat"
[[steps]]
id = "n"
tool = "echo"
args = { text = "forty-two" }
[[steps]]
id = "ask"
branch = "helper"
system = "Be brief."
message = "The number is ${steps.n.result}"
depends_on = ["n"]
"""
        report = WorkflowRunner(system, tools=standard_tools()).run(wf(text))
        assert report.ok
        result = report.steps[1].result
        assert "forty-two" in result["reply"]
        assert result["stopped"] == "answer"

    def test_each_chat_step_sets_its_own_system_prompt(self, system):
        """A later step's system prompt reaches the branch too, before that step's message."""
        seen: list[list[tuple[str, str]]] = []

        class Recording(OfflineProvider):
            def respond(self, messages, tools=None, params=None):
                seen.append([(str(m.role), m.content) for m in messages])
                return super().respond(messages, tools, params)

        text = """
name = "prompts"
[[steps]]
id = "a"
branch = "helper"
system = "Be kind."
message = "hi"
[[steps]]
id = "b"
branch = "helper"
message = "again"
depends_on = ["a"]
[[steps]]
id = "c"
branch = "helper"
system = "Be brief."
message = "last"
depends_on = ["b"]
"""
        report = WorkflowRunner(system, providers=[Recording()]).run(wf(text), timeout=30)
        assert report.ok, report
        assert seen[-1] == [
            ("system", "Be kind."),
            ("user", "hi"),
            ("assistant", "hi"),
            ("user", "again"),
            ("assistant", "again"),
            ("system", "Be brief."),
            ("user", "last"),
        ]

    def test_a_failed_chat_fails_its_step_and_skips_dependents(self, system):
        """A chat whose provider fails ends its step failed with the reason; dependents skip."""

        class Broken(OfflineProvider):
            def respond(self, messages, tools=None, params=None):
                raise ProviderBadRequestError("model says no")

        text = """
name = "broken"
[[steps]]
id = "ask"
branch = "helper"
message = "hi"
[[steps]]
id = "use"
tool = "echo"
args = { text = "${steps.ask.result}" }
depends_on = ["ask"]
"""
        runner = WorkflowRunner(system, tools=standard_tools(), providers=[Broken()])
        report = runner.run(wf(text), timeout=30)
        ask, use = report.steps
        assert ask.status is EventStatus.FAILED
        assert "provider call" in (ask.error or "")
        assert "model says no" in (ask.error or "")
        assert use.status is EventStatus.SKIPPED
        assert system.names() == []

    @pytest.mark.parametrize("timeout", [300.0, None])
    def test_a_chat_step_is_bounded_by_the_runner_timeout_only(self, system, timeout):
        """A chat step's Branch handle never gives up before the runner's own step timeout."""
        workflow = wf('name = "c"\n[[steps]]\nid = "x"\nbranch = "b1"\nmessage = "hi"\n')
        runner = WorkflowRunner(system, timeout=timeout)
        chats: dict[str, Any] = {}
        runner._branches(workflow, "r1", chats)
        try:
            assert chats["b1"].branch.timeout >= 24 * 3600
        finally:
            chats["b1"].branch.stop()

    def test_runner_leaves_no_branch_behind(self, system):
        """Branches spawned for a run are stopped when it ends."""
        text = 'name = "c"\n[[steps]]\nid = "x"\nbranch = "b1"\nmessage = "hi"\n'
        WorkflowRunner(system, tools=standard_tools()).run(wf(text))
        assert system.names() == []


async def _other_tasks() -> list[str]:
    current = asyncio.current_task()
    return [t.get_coro().__qualname__ for t in asyncio.all_tasks() if t is not current]


class TestAbort:
    def test_a_failing_progress_callback_leaves_no_step_waiting(self, system):
        """An on_update that raises ends the run with its error; no step task or branch remains."""

        def update(notice: StepUpdate) -> None:
            if notice.step == "a" and notice.phase == "finished":
                raise RuntimeError("render failed")

        text = """
name = "w"
[[steps]]
id = "a"
tool = "echo"
args = { text = "x" }
[[steps]]
id = "b"
tool = "echo"
args = { text = "${steps.a.result}" }
depends_on = ["a"]
[[steps]]
id = "c"
branch = "helper"
message = "hi"
depends_on = ["a"]
"""
        runner = WorkflowRunner(system, tools=standard_tools(), on_update=update)
        with pytest.raises(RuntimeError, match="render failed"):
            runner.run(wf(text), timeout=30)
        assert system.run_coroutine(_other_tasks()).result(10) == []
        assert system.names() == []

    def test_a_run_past_its_timeout_is_cancelled(self, system):
        """run(timeout=...) raises TimeoutError after stopping the run: no step or branch goes on."""
        text = """
name = "slow"
[[steps]]
id = "nap"
tool = "sleep"
args = { seconds = 20 }
[[steps]]
id = "chat"
branch = "helper"
message = "hi"
[[steps]]
id = "after"
tool = "echo"
args = { text = "${steps.nap.result}" }
depends_on = ["nap"]
"""
        runner = WorkflowRunner(system, tools=standard_tools())
        with pytest.raises(TimeoutError, match=r"workflow 'slow' did not finish within 0\.5 s"):
            runner.run(wf(text), timeout=0.5)
        assert system.run_coroutine(_other_tasks()).result(10) == []
        assert system.names() == []
