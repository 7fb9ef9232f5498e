"""Tests for AuditProcessor: a Log per finished Event, redacted, emitted via structlog."""

from __future__ import annotations

import pytest
import structlog
from tests.execution.helpers import Probe, call, run

from agentic.errors import ImmutableError
from agentic.execution import (
    REDACTED,
    AuditProcessor,
    Executor,
    Policy,
    PolicyProcessor,
    Rule,
    ValidationProcessor,
    redact,
)
from agentic.primitives import EventStatus, Log, Pile


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


class TestRedact:
    def test_nested_lists_and_dicts(self):
        """Redaction walks lists and dicts."""
        assert redact([{"token": 1}, {"ok": [{"secret": 2}]}]) == [
            {"token": REDACTED},
            {"ok": [{"secret": REDACTED}]},
        ]

    def test_plain_values_pass(self):
        """Scalars are returned unchanged."""
        assert redact(5) == 5
        assert redact({"name": "x"}) == {"name": "x"}
