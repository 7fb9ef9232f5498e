"""Workflow files: parsing, checking, and the plan of waves."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic.kernel import (
    ChatStep,
    ToolStep,
    Workflow,
    WorkflowCycleError,
    WorkflowError,
    load_workflow,
    parse_workflow,
)

LINEAR = """
name = "linear"
[[steps]]
id = "a"
tool = "echo"
args = { text = "hi" }
[[steps]]
id = "b"
message = "summarize ${steps.a.result}"
depends_on = ["a"]
"""


class TestParsing:
    def test_kind_is_inferred_from_keys(self):
        """A step with `tool` is a tool step; one with `message` is a chat step."""
        wf = parse_workflow(LINEAR, fmt="toml")
        assert isinstance(wf.steps[0], ToolStep)
        assert isinstance(wf.steps[1], ChatStep)
        assert wf.steps[1].branch == "main"

    def test_json_and_toml_agree(self):
        """The same workflow reads the same from JSON and TOML."""
        wf = parse_workflow(LINEAR, fmt="toml")
        again = parse_workflow(wf.model_dump_json(), fmt="json")
        assert again == wf

    def test_duplicate_json_keys_rejected(self):
        """A JSON object that repeats a key is malformed, not silently last-wins."""
        with pytest.raises(WorkflowError, match="duplicate key 'name'"):
            parse_workflow('{"name": "a", "name": "b", "steps": []}', fmt="json")

    def test_malformed_toml_names_source(self):
        """Malformed TOML is a WorkflowError naming the file."""
        with pytest.raises(WorkflowError, match=r"^flow\.toml: malformed TOML"):
            parse_workflow("name = ", fmt="toml", source="flow.toml")

    def test_invalid_utf8(self):
        """Bytes that are not UTF-8 are rejected with the offending offset."""
        with pytest.raises(WorkflowError, match="not valid UTF-8"):
            parse_workflow(b"name = '\xff'", fmt="toml")

    def test_unknown_field_named(self):
        """A misspelled field is named in the error."""
        with pytest.raises(WorkflowError, match=r"steps\.0\.tool\.depnds_on"):
            parse_workflow('name="x"\n[[steps]]\nid="a"\ntool="t"\ndepnds_on=["b"]', fmt="toml")

    def test_a_step_without_tool_or_message_names_its_keys(self):
        """A step with neither `tool` nor `message` (a typo) names the step and its keys."""
        with pytest.raises(WorkflowError) as info:
            parse_workflow('name="x"\n[[steps]]\nid="a"\ntol="echo"', fmt="toml", source="f.toml")
        text = str(info.value)
        assert text.startswith("f.toml: invalid workflow at steps.0: ")
        assert "step 'a' has neither 'tool' nor 'message'" in text
        assert "keys: id, tol" in text

    def test_top_level_must_be_object(self):
        """A JSON array is not a workflow."""
        with pytest.raises(WorkflowError, match="must be a table/object"):
            parse_workflow("[1, 2]", fmt="json")

    def test_deep_nesting_is_a_clear_error(self):
        """Absurdly nested documents fail cleanly instead of crashing."""
        deep = "[" * 100_000 + "]" * 100_000
        with pytest.raises(WorkflowError):
            parse_workflow('{"name": "x", "steps": ' + deep + "}", fmt="json")

    def test_bad_step_id(self):
        """Step ids are short identifiers."""
        with pytest.raises(WorkflowError, match=r"steps\.0"):
            parse_workflow('name="x"\n[[steps]]\nid="a b"\ntool="t"', fmt="toml")

    def test_load_from_file(self, tmp_path):
        """load_workflow picks the format from the suffix."""
        path = tmp_path / "flow.toml"
        path.write_text(LINEAR)
        assert load_workflow(path).name == "linear"

    def test_load_rejects_other_suffix(self, tmp_path):
        """Only .toml and .json are workflow files."""
        path = tmp_path / "flow.yaml"
        path.write_text("x")
        with pytest.raises(WorkflowError, match=r"must end in \.toml or \.json"):
            load_workflow(path)

    def test_load_missing_file(self, tmp_path):
        """A missing file is a WorkflowError, not an OSError."""
        with pytest.raises(WorkflowError, match="cannot read workflow file"):
            load_workflow(tmp_path / "nope.toml")


def _wf(deps: dict[str, list[str]]) -> Workflow:
    return Workflow(
        name="g",
        steps=[ToolStep(id=k, tool="echo", depends_on=v) for k, v in deps.items()],
    )


class TestWaves:
    def test_parallel_roots_share_a_wave(self):
        """Independent steps land in the same wave, in declared order."""
        assert _wf({"a": [], "b": [], "c": ["a", "b"]}).waves() == [["a", "b"], ["c"]]

    def test_unknown_dependency(self):
        """Depending on a step that does not exist is named."""
        with pytest.raises(WorkflowError, match="depends on 'zz', which is not a step"):
            _wf({"a": ["zz"]}).waves()

    def test_self_dependency(self):
        """A step depending on itself is a cycle."""
        with pytest.raises(WorkflowCycleError) as info:
            _wf({"a": ["a"]}).waves()
        assert info.value.cycle == ["a", "a"]

    def test_duplicate_ids(self):
        """Two steps with one id are rejected."""
        wf = Workflow(name="d", steps=[ToolStep(id="a", tool="t"), ToolStep(id="a", tool="t")])
        with pytest.raises(WorkflowError, match="two steps called 'a'"):
            wf.waves()

    def test_cycle_reported_before_running(self):
        """parse_workflow rejects a cycle, naming its path."""
        text = '{"name":"c","steps":[{"id":"a","tool":"t","depends_on":["c"]},{"id":"b","tool":"t","depends_on":["a"]},{"id":"c","tool":"t","depends_on":["b"]}]}'
        with pytest.raises(WorkflowCycleError, match="a -> c -> b -> a"):
            parse_workflow(text, fmt="json")

    @given(st.data())
    def test_waves_respect_every_dependency(self, data):
        """In any DAG every step runs in a later wave than each step it depends on."""
        n = data.draw(st.integers(1, 25))
        names = [f"s{i}" for i in range(n)]
        deps = {
            name: data.draw(st.lists(st.sampled_from(names[:i]), unique=True, max_size=4))
            if i
            else []
            for i, name in enumerate(names)
        }
        waves = _wf(deps).waves()
        where = {step: i for i, wave in enumerate(waves) for step in wave}
        assert sorted(where) == sorted(names)
        for step, needs in deps.items():
            for need in needs:
                assert where[need] < where[step]
            # each step is as early as its dependencies allow
            assert where[step] == (1 + max((where[x] for x in needs), default=-1))

    @given(st.data())
    def test_reported_cycle_is_real(self, data):
        """When a graph has a cycle, the reported path follows real edges back to its start."""
        n = data.draw(st.integers(2, 12))
        names = [f"s{i}" for i in range(n)]
        deps = {
            name: data.draw(st.lists(st.sampled_from(names), unique=True, max_size=3))
            for name in names
        }
        try:
            _wf(deps).waves()
        except WorkflowCycleError as exc:
            cycle = exc.cycle
            assert cycle[0] == cycle[-1]
            for a, b in itertools.pairwise(cycle):
                assert b in deps[a]
