"""Tests for PolicyProcessor: denials end the Event before the target."""

from __future__ import annotations

from typing import Any

from tests.execution.helpers import Probe, call, run

from agentic.execution import (
    Call,
    Condition,
    Executor,
    FunctionTarget,
    Policy,
    PolicyProcessor,
    Rule,
    TargetMap,
    default_chain,
)
from agentic.primitives import EventStatus


def deny_secret() -> Policy:
    return Policy(rules=[Rule(name="no-secrets", effect="deny", targets=["secret_*"])])


class TestPolicyProcessor:
    def test_denied_event_never_reaches_the_target(self):
        """A denied Call ends denied with the rule's name, and its target is never invoked."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), [PolicyProcessor(deny_secret())])
            return await ex.submit(call("secret_op", tag="s"))

        event = run(main())
        assert event.status is EventStatus.DENIED
        assert event.execution.reason == "denied by policy rule 'no-secrets'"
        assert probe.reached == []
        assert event.execution.attempts == []
        assert event.metadata["decisions"] == [
            {"by": "policy", "decision": "deny", "reason": "denied by policy rule 'no-secrets'"}
        ]

    def test_allowed_event_runs_and_the_rule_is_noted(self):
        """A Call allowed by a rule runs, and the allowing rule is noted on the Event."""
        probe = Probe()
        policy = Policy(default="deny", rules=[Rule(name="oks", effect="allow", targets=["ok"])])

        async def main():
            ex = Executor(probe.resolver(), [PolicyProcessor(policy)])
            return await ex.submit(call("ok", tag="fine"))

        event = run(main())
        assert event.status is EventStatus.COMPLETED
        assert probe.reached == ["fine"]
        assert event.metadata["decisions"] == [
            {"by": "policy", "decision": "allow", "reason": "allowed by policy rule 'oks'"}
        ]

    def test_allow_by_default_is_not_noted(self):
        """An allow by the policy default leaves no note (it is implied)."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), [PolicyProcessor(deny_secret())])
            return await ex.submit(call("ok"))

        event = run(main())
        assert event.status is EventStatus.COMPLETED
        assert "decisions" not in event.metadata

    def test_guarded_target_needs_a_naming_rule(self):
        """A guarded target is denied by the default policy and allowed by a naming rule."""
        calls = []

        async def handler(arguments):
            calls.append(arguments)
            return "ran"

        resolver = TargetMap([FunctionTarget("danger", handler, guarded=True)])

        async def main(policy):
            ex = Executor(resolver, [PolicyProcessor(policy)])
            return await ex.submit(call("danger"))

        denied = run(main(Policy()))
        assert denied.status is EventStatus.DENIED
        assert "guarded" in (denied.execution.reason or "")
        assert calls == []
        allowed = run(main(Policy(rules=[Rule(effect="allow", targets=["danger"])])))
        assert allowed.status is EventStatus.COMPLETED
        assert len(calls) == 1

    def test_guarded_target_never_runs_without_a_policy_processor(self):
        """Without a PolicyProcessor in the chain, a guarded target fails instead of running."""
        calls = []

        async def handler(arguments):
            calls.append(arguments)
            return "ran"

        resolver = TargetMap([FunctionTarget("danger", handler, guarded=True)])

        async def main():
            return await Executor(resolver, ()).submit(call("danger"))

        event = run(main())
        assert event.status is EventStatus.FAILED
        assert event.execution.error.type == "agentic.execution.PolicyDeniedError"  # type: ignore[union-attr]
        assert calls == []


class TestPolicySeesWhatRuns:
    @staticmethod
    def _ports(reached: list[Any]) -> TargetMap:
        def coerce(arguments: dict[str, Any]) -> dict[str, Any]:
            return {"port": int(arguments["port"])}  # lax coercion, as a Tool's pydantic does

        return TargetMap([FunctionTarget("connect", reached.append, validate=coerce)])

    def test_deny_rule_holds_for_a_value_coerced_into_the_denied_one(self):
        """A deny rule on port 22 also denies "22", which validation turns into 22."""
        policy = Policy(
            rules=[
                Rule(
                    name="no-ssh",
                    effect="deny",
                    targets=["connect"],
                    when=[Condition(argument="port", op="in", value=[22])],
                )
            ]
        )
        reached: list[Any] = []

        async def main():
            ex = Executor(self._ports(reached), default_chain(policy=policy, audit=False))
            return [
                await ex.submit(Call(target="connect", arguments={"port": port}))
                for port in (22, "22", " 22")
            ]

        events = run(main())
        assert [e.status for e in events] == [EventStatus.DENIED] * 3
        assert reached == []

    def test_without_a_validation_processor_the_policy_still_sees_the_coerced_value(self):
        """A chain of only the policy gate denies "22" too: the gate validates for itself."""
        policy = Policy(
            rules=[
                Rule(
                    name="no-ssh",
                    effect="deny",
                    targets=["connect"],
                    when=[Condition(argument="port", op="equals", value=22)],
                )
            ]
        )
        reached: list[Any] = []

        async def main():
            ex = Executor(self._ports(reached), [PolicyProcessor(policy)])
            return [
                await ex.submit(Call(target="connect", arguments={"port": port}))
                for port in ("22", 443, "x")
            ]

        events = run(main())
        assert [e.status for e in events] == [
            EventStatus.DENIED,
            EventStatus.COMPLETED,
            EventStatus.FAILED,  # invalid: fails in the invocation's own validation
        ]
        assert reached == [{"port": 443}]

    def test_allow_rule_must_hold_for_the_raw_and_the_coerced_value(self):
        """An allow rule for guarded runs holds only if it holds for what runs too."""
        policy = Policy(
            default="deny",
            rules=[
                Rule(
                    name="only-https",
                    effect="allow",
                    targets=["connect"],
                    when=[Condition(argument="port", op="not_equals", value=22)],
                )
            ],
        )
        reached: list[Any] = []

        async def main():
            ex = Executor(self._ports(reached), default_chain(policy=policy, audit=False))
            return [
                await ex.submit(Call(target="connect", arguments={"port": port}))
                for port in (443, "22")
            ]

        events = run(main())
        assert [e.status for e in events] == [EventStatus.COMPLETED, EventStatus.DENIED]
        assert reached == [{"port": 443}]


class TestPolicySeesDefaults:
    """Validation fills in defaults: a rule about a value must see the value that runs."""

    @staticmethod
    def _writes(reached: list[Any]) -> TargetMap:
        def fill(arguments: dict[str, Any]) -> dict[str, Any]:
            return {"path": arguments["path"], "append": arguments.get("append", False)}

        return TargetMap([FunctionTarget("write", reached.append, validate=fill)])

    @staticmethod
    def _submit(policy: Policy, reached: list[Any], *arguments: dict[str, Any]) -> list[Any]:
        async def main():
            ex = Executor(TestPolicySeesDefaults._writes(reached), default_chain(policy=policy))
            return [await ex.submit(Call(target="write", arguments=a)) for a in arguments]

        return [e.status for e in run(main())]

    def test_deny_rule_holds_for_a_default_the_caller_left_out(self):
        """A deny rule on append == false also denies a Call that omits append (default false)."""
        policy = Policy(
            rules=[
                Rule(
                    name="append-only",
                    effect="deny",
                    targets=["write"],
                    when=[Condition(argument="append", op="equals", value=False)],
                )
            ]
        )
        reached: list[Any] = []
        statuses = self._submit(
            policy,
            reached,
            {"path": "a"},
            {"path": "a", "append": False},
            {"path": "a", "append": True},
        )
        assert statuses == [EventStatus.DENIED, EventStatus.DENIED, EventStatus.COMPLETED]
        assert reached == [{"path": "a", "append": True}]

    def test_allow_rule_must_hold_for_the_default_too(self):
        """An allow rule whose condition fails for the default does not allow a Call omitting it."""
        policy = Policy(
            default="deny",
            rules=[
                Rule(
                    name="appends",
                    effect="allow",
                    targets=["write"],
                    when=[Condition(argument="append", op="not_equals", value=False)],
                )
            ],
        )
        reached: list[Any] = []
        statuses = self._submit(policy, reached, {"path": "a"}, {"path": "a", "append": True})
        assert statuses == [EventStatus.DENIED, EventStatus.COMPLETED]
        assert reached == [{"path": "a", "append": True}]

    def test_present_and_absent_still_mean_what_the_caller_sent(self):
        """`present` and `absent` judge the arguments sent, not the defaults filled in."""
        policy = Policy(
            rules=[
                Rule(
                    name="no-explicit-append",
                    effect="deny",
                    targets=["write"],
                    when=[Condition(argument="append", op="present")],
                )
            ]
        )
        reached: list[Any] = []
        statuses = self._submit(policy, reached, {"path": "a"}, {"path": "a", "append": True})
        assert statuses == [EventStatus.COMPLETED, EventStatus.DENIED]
        assert reached == [{"path": "a", "append": False}]
