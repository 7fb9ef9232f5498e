"""Replay: rebuild the CLI's whole state from the records, count it and digest it."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from agentic.kernel._catalog import ELEMENTS_STREAM, Catalog
from agentic.kernel._state_branches import BranchHistory
from agentic.kernel._state_view import StoreAsOf
from agentic.store import EventStore

__all__ = ["ReplayReport", "RunSummary", "replay", "run_summaries"]


class RunSummary(BaseModel):
    """A recorded workflow run, as `runs list` shows it."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    """The run's id (stream `run-<id>`)."""
    workflow: str
    """The workflow's name."""
    status: str
    """`completed`, `failed`, or `incomplete` (no `run.finished` record)."""
    steps: int
    """How many steps the workflow declares."""
    finished_steps: int
    """How many steps have a `step.finished` record."""
    started_at: float
    """When `run.started` was committed (Unix seconds)."""
    duration: float | None
    """Seconds from start to end (None while incomplete)."""


class ReplayReport(BaseModel):
    """What a replay rebuilt."""

    model_config = ConfigDict(frozen=True)

    position: int
    """The store's last position (how many records it holds)."""
    counts: dict[str, int]
    """Elements, piles, progressions, branches, messages, runs, streams."""
    digest: str
    """SHA-256 of the rebuilt state: equal digests, equal state."""
    problems: list[str]
    """Inconsistencies found (e.g. a progression naming an id its pile lacks)."""


def run_summaries(store: EventStore) -> list[RunSummary]:
    """Return every recorded run, oldest first."""
    runs = []
    for stream in store.streams():
        if not stream.startswith("run-"):
            continue
        started: Any = None
        finished: Any = None
        steps = 0
        for record in store.read(stream):
            if record.type == "run.started":
                started = record
            elif record.type == "step.finished":
                steps += 1
            elif record.type == "run.finished":
                finished = record.payload
        if started is None:
            continue
        workflow = started.payload.get("workflow") or {}
        runs.append(
            RunSummary(
                run_id=stream.removeprefix("run-"),
                workflow=str(workflow.get("name", "?")),
                status=str(finished.get("status")) if finished else "incomplete",
                steps=len(workflow.get("steps") or []),
                finished_steps=steps,
                started_at=started.timestamp,
                duration=finished.get("duration") if finished else None,
            )
        )
    runs.sort(key=lambda run: run.started_at)
    return runs


def replay(store: EventStore, *, position: int | None = None) -> ReplayReport:
    """Rebuild every element, pile, progression and branch from the records alone.

    Snapshots are ignored, and nothing is written: a replay leaves the store as it was.
    Everything is read as of one position, so other writers appending meanwhile change
    neither the result nor its digest.

    Args:
        store: The event store.
        position: Rebuild the state as of this position (None: the last one now).
    """
    store = StoreAsOf(store, position)
    position = store.position
    streams = store.streams()
    catalog = Catalog(store, use_snapshot=False)
    problems: list[str] = []
    elements = [item.to_dict() for item in catalog.elements] if ELEMENTS_STREAM in streams else []
    piles: dict[str, Any] = {}
    for name in catalog.names("pile"):
        if f"pile-{name}" not in streams:
            problems.append(f"pile {name!r} has no stream")
            continue
        pile = catalog.pile(name)
        keys = pile.keys()
        piles[name] = {"item_type": pile.item_type.type_name, "ids": [str(k) for k in keys]}
    progressions: dict[str, Any] = {}
    for name in catalog.names("progression"):
        if f"progression-{name}" not in streams:
            problems.append(f"progression {name!r} has no stream")
            continue
        ids = [str(key) for key in catalog.progression(name)]
        bound = catalog.entry("progression", name).get("pile")
        scope = set(piles.get(bound, {}).get("ids", [])) if bound else {e["id"] for e in elements}
        problems += [
            f"progression {name!r} orders {i}, which is not in its pile"
            for i in ids
            if i not in scope
        ]
        progressions[name] = {"pile": bound, "ids": ids}
    branches: dict[str, Any] = {}
    for name in catalog.names("branch"):
        history = BranchHistory(store, name)
        branches[name] = {
            "provider": history.provider,
            "system": history.system,
            "messages": [m.get("id") for m in history.messages],
            "logs": len(history.logs),
        }
    runs = {run.run_id: run.status for run in run_summaries(store)}
    state = {
        "position": position,
        "streams": {stream: store.stream_sequence(stream) for stream in streams},
        "elements": elements,
        "piles": piles,
        "progressions": progressions,
        "branches": branches,
        "runs": runs,
    }
    digest = hashlib.sha256(orjson.dumps(state, option=orjson.OPT_SORT_KEYS)).hexdigest()
    counts = {
        "elements": len(elements),
        "piles": len(piles),
        "progressions": len(progressions),
        "branches": len(branches),
        "messages": sum(len(b["messages"]) for b in branches.values()),
        "runs": len(runs),
        "streams": len(streams),
    }
    return ReplayReport(position=position, counts=counts, digest=digest, problems=problems)
