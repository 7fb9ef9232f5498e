"""Citations: `${steps.<id>.result}` checked when a workflow loads, `$${` as an escape."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic.actors import ActorSystem
from agentic.kernel import (
    Workflow,
    WorkflowCitationError,
    WorkflowError,
    WorkflowRunner,
    load_workflow,
    parse_workflow,
    standard_tools,
)
from agentic.primitives import EventStatus


@pytest.fixture
def system():
    with ActorSystem("test-citations") as system:
        yield system


def two_steps(cite: str, *, field: str = "args = { text = ") -> str:
    """A workflow whose second step (`use`) carries `cite` in its arguments."""
    closing = " }" if field.startswith("args") else ""
    return (
        'name = "cite"\n'
        '[[steps]]\nid = "fetch"\ntool = "echo"\nargs = { text = "x" }\n'
        '[[steps]]\nid = "use"\ndepends_on = ["fetch"]\n'
        + ("" if field.startswith("args") else 'branch = "b"\n')
        + ("tool = 'echo'\n" if field.startswith("args") else "")
        + f"{field}{_toml(cite)}{closing}\n"
        + ('message = "hi"\n' if field.startswith("system") else "")
    )


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class TestMistypedCitations:
    def test_a_misspelled_field_is_refused_at_load(self, tmp_path):
        """`${steps.fetch.reslt}` fails loading, naming file, step, argument and citation."""
        path = tmp_path / "flow.toml"
        path.write_text(two_steps("got ${steps.fetch.reslt}"))
        with pytest.raises(WorkflowCitationError) as info:
            load_workflow(path)
        text = str(info.value)
        assert text.startswith(f"{path}: ")
        assert "step 'use'" in text
        assert "argument 'text'" in text
        assert "'${steps.fetch.reslt}'" in text
        assert "did you mean '${steps.fetch.result}'" in text
        assert info.value.step == "use"
        assert info.value.argument == "text"
        assert info.value.citation == "${steps.fetch.reslt}"
        assert info.value.source == str(path)

    @pytest.mark.parametrize(
        ("cite", "hint"),
        [
            ("${steps.fetch}", "${steps.fetch.result}"),
            ("${steps.fetch.results}", "${steps.fetch.result}"),
            ("${step.fetch.result}", "${steps.fetch.result}"),
            ("${ steps.fetch.result }", "${steps.fetch.result}"),
            ("${steps.fetch.result.words}", "${steps.fetch.result}"),
            ("${fetch}", "${steps.fetch.result}"),
        ],
    )
    def test_near_misses_suggest_the_valid_form(self, cite, hint):
        """A malformed citation that names a known step suggests its valid form."""
        with pytest.raises(WorkflowCitationError, match=re.escape(f"did you mean '{hint}'")):
            parse_workflow(two_steps(cite), fmt="toml", source="f.toml")

    @pytest.mark.parametrize("cite", ["${HOME}", "${}", "cost: ${", "${steps..result}", "a}${b"])
    def test_anything_else_shaped_like_a_citation_is_refused(self, cite):
        """Every `${` must open a valid citation (or be escaped as `$${`)."""
        with pytest.raises(WorkflowCitationError, match=r"f\.toml: step 'use'.*\$\$\{"):
            parse_workflow(two_steps(cite), fmt="toml", source="f.toml")

    def test_an_unknown_step_is_refused_at_load(self):
        """Citing a step that does not exist fails loading, with the known step ids."""
        with pytest.raises(WorkflowCitationError, match=r"'\$\{steps\.nope\.result\}'.*no step"):
            parse_workflow(two_steps("${steps.nope.result}"), fmt="toml")

    def test_a_step_not_depended_on_is_refused_at_load(self):
        """Citing a real step without depending on it fails loading, not just running."""
        text = (
            'name = "c"\n[[steps]]\nid = "a"\ntool = "echo"\n'
            '[[steps]]\nid = "b"\ntool = "echo"\nargs = {text = "${steps.a.result}"}\n'
        )
        with pytest.raises(WorkflowError, match="cites the result of 'a' but does not depend"):
            parse_workflow(text, fmt="toml")

    def test_nested_arguments_are_named_by_path(self):
        """A bad citation deep in the arguments is named by its path."""
        text = (
            'name = "n"\n[[steps]]\nid = "fetch"\ntool = "echo"\n'
            '[[steps]]\nid = "use"\ntool = "echo"\ndepends_on = ["fetch"]\n'
            'args = { meta = { list = ["ok", "${steps.fetch.reslt}"] } }\n'
        )
        with pytest.raises(WorkflowCitationError, match=r"argument 'meta\.list\[1\]'"):
            parse_workflow(text, fmt="toml")

    def test_chat_message_is_checked(self):
        """A chat step's message is checked like a tool argument."""
        with pytest.raises(WorkflowCitationError, match="step 'use' message"):
            parse_workflow(two_steps("${steps.fetch.reslt}", field="message = "), fmt="toml")

    def test_chat_system_prompt_is_checked(self):
        """A chat step's system prompt is filled like its message, so it is checked too."""
        with pytest.raises(WorkflowCitationError, match="step 'use' system"):
            parse_workflow(two_steps("${steps.fetch.reslt}", field="system = "), fmt="toml")

    def test_a_workflow_built_in_python_is_checked_by_the_runner(self, system):
        """A Workflow made without parse_workflow is checked before the runner runs it."""
        workflow = Workflow.model_validate(
            {
                "name": "py",
                "steps": [
                    {"id": "a", "tool": "echo", "args": {"text": "x"}},
                    {"id": "b", "tool": "echo", "args": {"text": "${steps.a.reslt}"}},
                ],
            }
        )
        runner = WorkflowRunner(system, tools=standard_tools())
        with pytest.raises(WorkflowCitationError, match="did you mean"):
            runner.run(workflow)
        assert len(runner.logs) == 0


class TestSystemPromptCitations:
    def test_a_system_prompt_citing_a_step_not_depended_on_is_refused(self, system):
        """A system prompt may only cite a dependency, like the message."""
        text = (
            'name = "s"\n[[steps]]\nid = "a"\ntool = "echo"\nargs = {text = "x"}\n'
            '[[steps]]\nid = "b"\nsystem = "${steps.a.result}"\nmessage = "hi"\n'
        )
        with pytest.raises(WorkflowError, match="cites the result of 'a' but does not depend"):
            parse_workflow(text, fmt="toml")

    def test_a_system_prompt_cites_its_dependency(self, system):
        """A system prompt citing a dependency gets the result, like the message."""
        text = (
            'name = "s"\n[[steps]]\nid = "a"\ntool = "echo"\nargs = {text = "Be terse."}\n'
            '[[steps]]\nid = "b"\nsystem = "Rule: ${steps.a.result}"\nmessage = "hi"\n'
            'depends_on = ["a"]\n'
        )
        report = WorkflowRunner(system, tools=standard_tools()).run(
            parse_workflow(text, fmt="toml")
        )
        assert report.ok, report
        assert report.steps[1].status is EventStatus.COMPLETED


class TestEscape:
    def test_double_dollar_is_a_literal(self, system):
        """`$${` reaches the tool as a literal `${`, next to a real citation."""
        text = (
            'name = "e"\n[[steps]]\nid = "a"\ntool = "echo"\nargs = {text = "A"}\n'
            '[[steps]]\nid = "b"\ntool = "echo"\ndepends_on = ["a"]\n'
            'args = {text = "$${HOME} $${steps.a.result} ${steps.a.result} $$ $"}\n'
        )
        report = WorkflowRunner(system, tools=standard_tools()).run(
            parse_workflow(text, fmt="toml")
        )
        assert report.steps[1].result == "${HOME} ${steps.a.result} A $$ $"

    def test_an_escaped_citation_needs_no_dependency(self):
        """An escaped citation is text: it cites nothing, so needs no dependency."""
        text = (
            'name = "e"\n[[steps]]\nid = "a"\ntool = "echo"\n'
            '[[steps]]\nid = "b"\ntool = "echo"\nargs = {text = "$${steps.a.result}"}\n'
        )
        assert parse_workflow(text, fmt="toml").steps[1].id == "b"

    @given(st.text(alphabet=st.characters(blacklist_characters="$"), max_size=40))
    def test_text_without_a_dollar_sign_always_loads(self, text):
        """Any argument without `$` loads unchanged."""
        workflow = Workflow.model_validate(
            {"name": "t", "steps": [{"id": "a", "tool": "echo", "args": {"text": text}}]}
        )
        workflow.check_citations()
        assert workflow.steps[0].args == {"text": text}
