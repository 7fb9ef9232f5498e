"""Tests for Policy, Rule and Condition, and loading policies from files."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic.errors import ConfigurationError
from agentic.execution import Call, Condition, Policy, PolicyError, Rule


def c(target: str, caller: str | None = None, kind: str = "tool", **arguments) -> Call:
    return Call(target=target, caller=caller, kind=kind, arguments=arguments)


class TestRules:
    def test_first_matching_rule_decides(self):
        """Rules are tried in order; the first that matches decides."""
        policy = Policy(
            rules=[
                Rule(name="no-rm", effect="deny", targets=["rm*"]),
                Rule(name="all", effect="allow", targets=["*"]),
            ]
        )
        assert policy.decide(c("rm_tree")) == (False, "no-rm", "denied by policy rule 'no-rm'")
        assert policy.decide(c("ls")).allowed

    def test_default_applies_when_nothing_matches(self):
        """With no matching rule the default decides, and says so."""
        deny_all = Policy(default="deny")
        decision = deny_all.decide(c("x"))
        assert not decision.allowed
        assert decision.rule is None
        assert "policy default" in decision.reason
        assert Policy().decide(c("x")).allowed

    def test_rule_without_name_is_named_by_position(self):
        """An unnamed rule is reported as #n."""
        policy = Policy(rules=[Rule(effect="allow", targets=["a"]), Rule(effect="deny")])
        assert policy.decide(c("b")).rule == "#2"

    def test_denial_quotes_the_rule_reason(self):
        """A rule's reason is part of the denial."""
        policy = Policy(rules=[Rule(name="r", effect="deny", reason="too risky")])
        assert policy.decide(c("x")).reason == "denied by policy rule 'r': too risky"

    def test_callers_and_kinds_narrow_a_rule(self):
        """A rule with callers or kinds matches only those."""
        policy = Policy(
            default="deny",
            rules=[Rule(name="ops", effect="allow", callers=["ops-*"], kinds=["tool"])],
        )
        assert policy.decide(c("x", caller="ops-1")).allowed
        assert not policy.decide(c("x", caller="dev-1")).allowed
        assert not policy.decide(c("x", caller=None)).allowed
        assert not policy.decide(c("x", caller="ops-1", kind="provider")).allowed

    def test_predicate_in_code(self):
        """A code predicate is an extra condition (and is not serialized)."""
        rule = Rule(effect="deny", predicate=lambda call: len(call.arguments) > 2)
        policy = Policy(rules=[rule])
        assert policy.decide(c("x", a=1, b=2, d=3)).allowed is False
        assert policy.decide(c("x", a=1)).allowed
        assert "predicate" not in rule.model_dump()


class TestGuarded:
    def test_guarded_target_is_denied_by_default(self):
        """A guarded target is denied when no rule names it."""
        decision = Policy().decide(c("run_command"), guarded=True)
        assert not decision.allowed
        assert "guarded" in decision.reason

    def test_wildcards_never_allow_a_guarded_target(self):
        """An allow rule with a wildcard does not allow a guarded target."""
        policy = Policy(
            rules=[Rule(effect="allow", targets=["*"]), Rule(effect="allow", targets=["run_*"])]
        )
        assert not policy.decide(c("run_command"), guarded=True).allowed

    def test_a_rule_naming_the_target_allows_it(self):
        """An allow rule that lists the guarded name literally allows it."""
        policy = Policy(rules=[Rule(name="cmd", effect="allow", targets=["run_command"])])
        assert policy.decide(c("run_command"), guarded=True) == (
            True,
            "cmd",
            "allowed by policy rule 'cmd'",
        )

    def test_deny_rules_still_apply_to_guarded_targets(self):
        """A deny rule before the naming allow rule still denies."""
        policy = Policy(
            rules=[
                Rule(
                    name="no-rm",
                    effect="deny",
                    targets=["run_command"],
                    when=[Condition(argument="argv", op="in", value=[["rm"]])],
                ),
                Rule(name="cmd", effect="allow", targets=["run_command"]),
            ]
        )
        assert not policy.decide(c("run_command", argv=["rm"]), guarded=True).allowed
        assert policy.decide(c("run_command", argv=["ls"]), guarded=True).allowed


class TestConditions:
    @pytest.mark.parametrize(
        ("op", "value", "argument", "expected"),
        [
            ("equals", 3, 3, True),
            ("equals", 3, 4, False),
            ("not_equals", 3, 4, True),
            ("in", ["a", "b"], "a", True),
            ("not_in", ["a", "b"], "a", False),
            ("glob", "*.txt", "notes.txt", True),
            ("glob", "*.txt", "notes.md", False),
            ("regex", r"\d+", "123", True),
            ("regex", r"\d+", "12a", False),
            ("max_length", 3, "abc", True),
            ("max_length", 3, "abcd", False),
            ("present", None, 1, True),
            ("under", "/srv/root", "a/b.txt", True),
            ("under", "/srv/root", "/srv/root/a", True),
            ("under", "/srv/root", "../root_evil/x", False),
            ("under", "/srv/root", "/srv/root_evil/x", False),
            ("under", "/srv/root", "a/../../etc/passwd", False),
            ("under", "/srv/root", "a\x00b", False),
            ("not_under", "/srv/root", "/etc/passwd", True),
        ],
    )
    def test_ops(self, op, value, argument, expected):
        """Each op tests the argument as documented."""
        cond = Condition(argument="x", op=op, value=value)
        assert cond.holds({"x": argument}) is expected

    def test_missing_argument(self):
        """A missing argument satisfies only absent and the negative ops."""
        assert Condition(argument="x", op="absent").holds({})
        assert not Condition(argument="x", op="equals", value=1).holds({})
        assert Condition(argument="x", op="not_under", value="/r").holds({})

    def test_all_conditions_must_hold(self):
        """A rule with several conditions matches only when all hold."""
        rule = Rule(
            effect="deny",
            when=[
                Condition(argument="a", op="equals", value=1),
                Condition(argument="b", op="equals", value=2),
            ],
        )
        assert rule.matches(c("t", a=1, b=2))
        assert not rule.matches(c("t", a=1, b=3))

    @given(st.lists(st.sampled_from(["a", "b", "..", ".", "root_evil"]), max_size=6))
    def test_under_never_admits_a_path_outside_the_root(self, parts):
        """Whatever the components, `under` admits only paths that stay inside the root."""
        import posixpath

        path = "/".join(parts)
        inside = Condition(argument="p", op="under", value="/srv/root").holds({"p": path})
        full = posixpath.normpath(posixpath.join("/srv/root", path))
        assert inside == (full == "/srv/root" or full.startswith("/srv/root/"))


TOML_OK = """
default = "deny"

[[rules]]
name = "reads"
effect = "allow"
targets = ["read_file", "list_files"]

[[rules]]
name = "writes in workspace"
effect = "allow"
targets = ["write_file"]
when = [{ argument = "path", op = "under", value = "/ws" }]
"""


class TestLoading:
    def test_toml_file(self, tmp_path):
        """A TOML policy file loads into the same rules."""
        path = tmp_path / "policy.toml"
        path.write_text(TOML_OK)
        policy = Policy.from_file(path)
        assert policy.default == "deny"
        assert [r.name for r in policy.rules] == ["reads", "writes in workspace"]
        assert policy.decide(c("write_file", path="a.txt")).allowed
        assert not policy.decide(c("write_file", path="../a.txt")).allowed

    def test_json_file_round_trip(self, tmp_path):
        """A policy dumped to JSON loads back equal."""
        policy = Policy(
            rules=[
                Rule(
                    name="x",
                    effect="deny",
                    targets=["a*"],
                    when=[Condition(argument="n", op="max_length", value=2)],
                )
            ]
        )
        path = tmp_path / "p.json"
        path.write_text(json.dumps(policy.model_dump()))
        assert Policy.from_file(path) == policy

    @pytest.mark.parametrize(
        ("text", "rule", "field", "fragment"),
        [
            (
                '[[rules]]\nname = "bad"\neffect = "maybe"\n',
                "#1 ('bad')",
                "effect",
                "'allow' or 'deny'",
            ),
            (
                '[[rules]]\neffect = "allow"\n[[rules]]\neffect = "deny"\ntargtes = ["x"]\n',
                "#2",
                "targtes",
                "Extra inputs",
            ),
            (
                '[[rules]]\nname = "r"\neffect = "deny"\nwhen = [{ argument = "p", op = "regex", value = "(" }]\n',
                "#1 ('r')",
                "when.0",
                "invalid regular expression",
            ),
            (
                '[[rules]]\nname = "r"\neffect = "deny"\nwhen = [{ argument = "p", op = "in", value = "x" }]\n',
                "#1 ('r')",
                "when.0",
                "needs a list",
            ),
            (
                '[[rules]]\nname = "r"\neffect = "deny"\nwhen = [{ argument = "p", op = "explode" }]\n',
                "#1 ('r')",
                "when.0.op",
                "Input should be",
            ),
            ('[[rules]]\nname = "r"\n', "#1 ('r')", "effect", "Field required"),
        ],
    )
    def test_bad_rules_name_the_rule_and_field(self, tmp_path, text, rule, field, fragment):
        """A broken rule is reported with the file, the rule and the field at fault."""
        path = tmp_path / "policy.toml"
        path.write_text(text)
        with pytest.raises(PolicyError) as info:
            Policy.from_file(path)
        err = info.value
        assert err.rule == rule
        assert err.field == field
        assert str(path) in str(err)
        assert f"rule {rule}" in str(err)
        assert fragment in str(err)
        assert isinstance(err, ConfigurationError)

    def test_top_level_error(self, tmp_path):
        """A bad top-level field is named."""
        path = tmp_path / "p.json"
        path.write_text('{"default": "perhaps"}')
        with pytest.raises(PolicyError, match="policy: field 'default'") as info:
            Policy.from_file(path)
        assert info.value.rule is None

    def test_syntax_error(self, tmp_path):
        """A file that is not valid TOML says so, with the parser's position."""
        path = tmp_path / "p.toml"
        path.write_text("[[rules]\n")
        with pytest.raises(PolicyError, match="is not valid TOML"):
            Policy.from_file(path)

    def test_bad_json(self, tmp_path):
        """A file that is not valid JSON says so."""
        path = tmp_path / "p.json"
        path.write_text("{")
        with pytest.raises(PolicyError, match="is not valid JSON"):
            Policy.from_file(path)

    def test_wrong_suffix(self, tmp_path):
        """Only .toml and .json files are read."""
        path = tmp_path / "p.yaml"
        path.write_text("default: deny")
        with pytest.raises(PolicyError, match=r"must end in \.toml or \.json"):
            Policy.from_file(path)

    def test_missing_file(self, tmp_path):
        """A missing file is a PolicyError naming it."""
        with pytest.raises(PolicyError, match="cannot read policy file"):
            Policy.from_file(tmp_path / "absent.toml")

    def test_document_that_is_not_a_table(self):
        """A JSON array is not a policy."""
        with pytest.raises(PolicyError, match="its shape"):
            Policy.from_dict([1, 2])
