"""Tests for AuditProcessor: a Log per finished Event, redacted, bounded, emitted via structlog."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.execution.helpers import FlakyError, Probe, call, run

from agentic.errors import ImmutableError
from agentic.execution import (
    REDACTED,
    AuditProcessor,
    Call,
    Executor,
    FunctionTarget,
    Policy,
    PolicyProcessor,
    RetryProcessor,
    Rule,
    TargetMap,
    ValidationProcessor,
    canonical_json,
    is_secret_key,
    is_summary,
    redact,
    summarize,
)
from agentic.primitives import Event, EventStatus, Log, Pile


def run_all(chain, calls):
    probe = Probe()

    async def main():
        ex = Executor(probe.resolver(), chain)
        return [await ex.submit(c) for c in calls]

    return run(main())


class TestAudit:
    def test_every_finished_event_becomes_a_log(self):
        """Completed, failed, denied and unknown-target Events each give one Log."""
        audit = AuditProcessor()
        policy = Policy(rules=[Rule(name="nope", effect="deny", targets=["secret_op"])])
        chain = [audit, ValidationProcessor(), PolicyProcessor(policy)]
        events = run_all(chain, [call("ok"), call("boom"), call("secret_op"), call("missing")])
        logs = audit.logs
        assert [log.event_id for log in logs] == [e.id for e in events]
        assert [log.status for log in logs] == ["completed", "failed", "denied", "failed"]
        assert [log.metadata["decision"] for log in logs] == ["allow", "allow", "deny", "allow"]
        assert logs[2].metadata["reason"] == "denied by policy rule 'nope'"
        assert "unknown target 'missing'" in logs[3].metadata["reason"]

    def test_log_records_caller_target_result_and_timings(self):
        """The Log's record holds the caller, target, result, decisions and timings."""
        audit = AuditProcessor()
        policy = Policy(rules=[Rule(name="alice", effect="allow", callers=["alice"])])
        run_all([audit, PolicyProcessor(policy)], [call("ok", caller="alice", tag="x")])
        record = audit.logs[0].record
        assert record["caller"] == "alice"
        assert record["target"] == "ok"
        assert record["execution"]["response"] == {"echo": {"tag": "x"}}
        assert record["execution"]["duration"] >= 0
        assert record["metadata"]["decisions"][0]["by"] == "policy"
        assert len(record["execution"]["attempts"]) == 1

    def test_secrets_are_redacted_in_the_log_but_not_the_event(self):
        """Secret-looking argument values never reach the Log or the log line."""
        audit = AuditProcessor()
        with structlog.testing.capture_logs() as lines:
            (event,) = run_all(
                [audit], [call("ok", api_key="sk-123", nested={"password": "pw", "x": 1})]
            )
        arguments = audit.logs[0].record["arguments"]
        assert arguments == {"api_key": REDACTED, "nested": {"password": REDACTED, "x": 1}}
        assert event.arguments["api_key"] == "sk-123"
        assert "sk-123" not in str(lines)
        assert "pw" not in str(lines[0]["arguments"])

    def test_emits_one_structlog_line_per_event(self):
        """Each Event gives one "event.finished" line; failures at warning level."""
        with structlog.testing.capture_logs() as lines:
            run_all([AuditProcessor()], [call("ok", caller="bob"), call("boom")])
        assert [(line["event"], line["log_level"]) for line in lines] == [
            ("event.finished", "info"),
            ("event.finished", "warning"),
        ]
        assert lines[0]["caller"] == "bob"
        assert lines[0]["target"] == "ok"
        assert lines[1]["error"] == "ValueError"

    def test_logs_are_immutable(self):
        """A Log cannot be changed after it is made."""
        audit = AuditProcessor()
        run_all([audit], [call("ok")])
        with pytest.raises(ImmutableError):
            audit.logs[0].record["status"] = "failed"

    @pytest.mark.parametrize("lazy", [True, False])
    def test_lazy_and_eager_give_the_same_logs(self, lazy):
        """Lazy Logs are built on read from a snapshot taken when the Event finished."""
        pile: Pile[Log] = Pile(item_type=Log)
        audit = AuditProcessor(pile, lazy=lazy)
        (event,) = run_all([audit], [call("ok")])
        event.metadata["later"] = "change"  # after the Event finished
        assert len(audit.logs) == 1
        assert audit.logs is pile
        assert "later" not in audit.logs[0].record["metadata"]
        assert audit.flush() == 0

    def test_max_logs_keeps_the_newest(self):
        """With max_logs the oldest Logs are dropped."""
        audit = AuditProcessor(max_logs=2)
        events = run_all([audit], [call("ok") for _ in range(5)])
        assert [log.event_id for log in audit.logs] == [e.id for e in events[-2:]]

    def test_max_logs_bounds_the_logs_waiting_to_be_built(self):
        """In lazy mode, max_logs also bounds what waits unread: only the newest are built."""
        audit = AuditProcessor(max_logs=3)
        events = run_all([audit], [call("ok") for _ in range(40)])
        assert audit.flush() == 3
        assert [log.event_id for log in audit.logs] == [e.id for e in events[-3:]]

    def test_cancelled_events_are_logged(self):
        """A cancelled Event is logged as cancelled."""
        import asyncio

        probe = Probe()
        audit = AuditProcessor()

        async def main():
            ex = Executor(probe.resolver(), [audit])
            c = call("hang")
            task = ex.start_soon(c)
            await asyncio.sleep(0.01)
            ex.cancel(c.id, "operator said stop")
            return await task

        event = run(main())
        assert event.status is EventStatus.CANCELLED
        assert audit.logs[0].status == "cancelled"
        assert audit.logs[0].metadata["reason"] == "operator said stop"


def finished(arguments: dict[str, Any], response: Any = None, **fields: Any) -> Call:
    """A Call that completed with `response`."""
    c = Call(target="model", arguments=arguments, **fields)
    c.start()
    c.complete(response)
    return c


def recorded(audit: AuditProcessor, event: Call) -> dict[str, Any]:
    """Record `event` and return its Log's record."""
    audit.record(event)
    return audit.logs[-1].record


def conversation(n: int) -> list[dict[str, Any]]:
    """`n` messages as a Branch sends them to a provider."""
    return [{"role": "user", "content": f"message {i} " * 10, "metadata": {}} for i in range(n)]


def _strings(value: Any) -> list[str]:
    """Every string in a nested value (keys included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _strings(k) + _strings(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _strings(v)]
    return []


class TestSecretsInMessages:
    """A secret argument quoted back in an error or a reason is redacted there too."""

    @staticmethod
    def _refuse(arguments: dict[str, Any]) -> Any:
        config = arguments.get("config", {})
        secret = arguments.get("password") or config.get("api_key")
        msg = f"server refused credentials {secret!r} (and {json.dumps(secret)})"
        raise FlakyError(msg, retryable=True)

    def _logs(self, arguments: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
        audit = AuditProcessor()
        targets = TargetMap([FunctionTarget("connect", self._refuse)])

        async def no_wait(_seconds: float) -> None:
            return None

        async def main():
            chain = [audit, RetryProcessor(2, sleep=no_wait)]
            return await Executor(targets, chain).submit(
                Call(target="connect", arguments=arguments)
            )

        with structlog.testing.capture_logs() as lines:
            event = run(main())
        assert event.status is EventStatus.FAILED
        return audit.logs[0], lines

    @pytest.mark.parametrize(
        "arguments",
        [
            {"password": 'hunter2-"quoted"\\-pass', "user": "bob"},
            {"config": {"api_key": "sk-live-ABCDEF", "region": "eu"}},
        ],
    )
    def test_secret_values_never_reach_messages_reasons_or_lines(self, arguments):
        """Error messages, attempts, retry notes, the reason and the line hold no secret value."""
        secret = arguments.get("password") or arguments["config"]["api_key"]
        log, lines = self._logs(arguments)
        for text in _strings([log.record, log.metadata, lines]):
            for form in (secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]):
                assert form not in text
        message = log.record["execution"]["error"]["message"]
        assert message.startswith(f"server refused credentials '{REDACTED}'")
        assert log.record["metadata"]["decisions"][0]["by"] == "retry"

    def test_short_values_numbers_and_other_arguments_are_left_alone(self):
        """Only string values of secret keys, of 4 characters or more, are scrubbed."""
        log, _ = self._logs({"password": "abc", "user": "server", "max_tokens": 1500})
        message = log.record["execution"]["error"]["message"]
        assert message.startswith("server refused credentials 'abc'")
        log, _ = self._logs({"password": 1500})
        assert "1500" in log.record["execution"]["error"]["message"]


class TestBoundedValues:
    def test_large_argument_values_become_summaries(self):
        """An argument value beyond max_value_bytes is stored as its summary; small ones whole."""
        messages = conversation(800)
        event = finished({"messages": messages, "model": "m"}, kind="provider")
        record = recorded(AuditProcessor(), event)
        assert record["arguments"] == {"messages": summarize(messages), "model": "m"}
        assert record["arguments"]["messages"]["items"] == 800
        assert event.arguments["messages"] is messages  # the Event keeps everything

    def test_the_digest_verifies_the_full_value(self):
        """Anyone holding the conversation can check it is the one the Log accounts for."""
        messages = conversation(100)
        record = recorded(AuditProcessor(), finished({"messages": messages}))
        stored = record["arguments"]["messages"]
        sent = json.loads(json.dumps(messages))  # e.g. read back from the Branch's export
        assert is_summary(stored)
        assert stored["sha256"] == hashlib.sha256(canonical_json(sent)).hexdigest()
        assert stored != summarize(sent[:-1])

    def test_metadata_and_small_values_are_never_summarized(self):
        """Metadata (usage, cost, decisions) stays whole in the record and the Log."""
        event = finished({"q": "x"}, metadata={"usage": {"input_tokens": 9}, "big": "y" * 10_000})
        audit = AuditProcessor()
        record = recorded(audit, event)
        assert record["metadata"] == event.metadata
        assert record["arguments"] == {"q": "x"}
        assert audit.logs[-1].metadata["decision"] == "allow"

    def test_large_responses_become_summaries(self):
        """A response beyond max_value_bytes is stored as its summary."""
        response = {"text": "z" * 5000}
        event = finished({}, response)
        record = recorded(AuditProcessor(), event)
        assert record["execution"]["response"] == summarize(response)
        assert event.execution.response == response
        small = recorded(AuditProcessor(), finished({}, {"text": "ok"}))
        assert small["execution"]["response"] == {"text": "ok"}

    @pytest.mark.parametrize("limit", [0, 1, 100, 10_000, None])
    def test_the_limit_is_exact(self, limit):
        """A value is summarized exactly when its JSON is longer than the limit."""
        value = ["abc"] * 20  # 121 bytes of JSON
        record = recorded(AuditProcessor(max_value_bytes=limit), finished({"v": value}))
        expected = value if limit is None or limit >= 121 else summarize(value)
        assert record["arguments"]["v"] == expected

    def test_secrets_inside_a_large_value_are_redacted_before_the_digest(self):
        """The digest is of the redacted value, so no secret reaches the Log, even hashed."""
        value = [{"api_key": "sk-live"}, *conversation(100)]
        record = recorded(AuditProcessor(), finished({"v": value}))
        assert record["arguments"]["v"] == summarize(redact(value))
        assert record["arguments"]["v"] != summarize(value)

    def test_the_log_shares_nothing_with_the_event(self):
        """A small argument changed after the Event finished does not change its Log."""
        items = [1, 2]
        event = finished({"items": items})
        audit = AuditProcessor(lazy=True)
        audit.record(event)
        items.append(3)
        assert audit.logs[-1].record["arguments"]["items"] == [1, 2]

    def test_log_lines_show_sizes_not_conversations(self):
        """The log line shows values beyond line_value_bytes as summaries."""
        messages = conversation(50)
        with structlog.testing.capture_logs() as lines:
            AuditProcessor(line_value_bytes=20).record(
                finished({"messages": messages, "path": "a.txt", "note": "n" * 30})
            )
        (line,) = lines
        assert line["arguments"] == {
            "messages": summarize(messages),
            "path": "a.txt",
            "note": summarize("n" * 30),
        }
        assert "message 3" not in str(line)

    def test_non_call_events_are_recorded(self):
        """An Event without arguments is recorded with its response bounded."""
        event = Event()
        event.start()
        event.complete("r" * 5000)
        record = recorded(AuditProcessor(), event)
        assert "arguments" not in record
        assert record["execution"]["response"] == summarize("r" * 5000)

    def test_a_value_json_cannot_hold_does_not_cost_the_event_its_log(self):
        """An object in the metadata or the arguments is logged as its type; the Log exists."""

        class Client:
            def __repr__(self) -> str:
                return "Client(api_key='sk-should-not-show')"

        audit = AuditProcessor()
        events = [
            Call(target="ok", metadata={"client": Client()}),
            Call(target="ok", arguments={"tag": "t", "client": Client()}),
        ]
        with structlog.testing.capture_logs() as lines:
            run_all([audit], events)
        logs = audit.logs  # unfixed: none, and no line, for either Event
        assert [log.event_id for log in logs] == [e.id for e in events]
        assert logs[0].record["metadata"]["client"] == "<unserializable Client>"
        assert logs[1].record["arguments"] == {"tag": "t", "client": "<unserializable Client>"}
        assert len(lines) == 2
        assert "sk-should-not-show" not in str([log.record for log in logs]) + str(lines)

    def test_integers_beyond_64_bits_are_stored_exactly(self):
        """An integer too large for 64 bits is kept exact in the Log and the line, not made a float."""
        audit = AuditProcessor(max_value_bytes=100, line_value_bytes=100)
        big = [-(2**63) - 1, 2**70]
        with structlog.testing.capture_logs() as lines:
            record = recorded(audit, finished({"path": big, "nested": {"x": big}}))
        assert record["arguments"]["path"] == big
        assert all(type(n) is int for n in record["arguments"]["path"])
        assert record["arguments"]["nested"] == {"x": big}
        assert lines[0]["arguments"]["path"] == big

    def test_negative_limits_are_refused(self):
        """A negative size limit is a configuration error naming the limits."""
        with pytest.raises(ValueError, match="max_value_bytes=-1"):
            AuditProcessor(max_value_bytes=-1)
        with pytest.raises(ValueError, match="line_value_bytes=-5"):
            AuditProcessor(line_value_bytes=-5)

    @settings(max_examples=60, deadline=None)
    @given(
        st.dictionaries(
            st.sampled_from(["messages", "token", "path", "n", "nested"]),
            st.recursive(
                st.none() | st.integers() | st.text(max_size=40),
                lambda inner: (
                    st.lists(inner, max_size=6)
                    | st.dictionaries(st.sampled_from(["secret", "role", "x"]), inner, max_size=3)
                ),
                max_leaves=40,
            ),
        ),
        st.integers(0, 200),
        st.integers(0, 200),
    )
    def test_every_stored_value_is_the_redacted_value_or_its_summary(
        self, arguments, limit, line_limit
    ):
        """Each stored (and shown) argument is the redacted value, or the summary of exactly it."""
        audit = AuditProcessor(max_value_bytes=limit, line_value_bytes=line_limit)
        with structlog.testing.capture_logs() as lines:
            record = recorded(audit, finished(arguments))
        shown = lines[0]["arguments"]
        assert record["arguments"].keys() == arguments.keys() == shown.keys()
        for key, value in arguments.items():
            expected = redact({key: value})[key]
            size = len(canonical_json(expected))
            secret = is_secret_key(key)
            stored = record["arguments"][key]
            assert stored == (expected if secret or size <= limit else summarize(expected))
            whole = secret or size <= min(limit, line_limit)  # never more than the Log has
            assert shown[key] == (expected if whole else summarize(expected))
