"""Side-by-side benchmark of agentic's primitives and lionagi's (Element, Pile, Progression).

Run with the venv that has both installed:

    /work/venv-lion/bin/python benchmarks/bench_primitives.py [--repeat N] [--quick]

`--floor` times only `pile[uuid]` per lookup, next to what a plain Python class with
the same dict costs (an empty `__getitem__`, one that is only the dict probe) and the
probe inline without a call, and a lookup dispatched entirely in C (no Python frame):
the floor under any lookup written in Python.

Every row runs the same operation on both libraries in this one process, `--repeat`
times (default 3), and reports the median. The ratio is lionagi's time divided by
agentic's: above 1 means agentic is faster.

lionagi is used through its public API, in the fastest documented way we found for
each operation (`Pile.include(item)`, `pile[key]`, `for x in pile`,
`Progression.append/remove`, `Pile.to_json()` / `Pile.from_json()`); deviations are
noted in the table's notes column.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from operator import attrgetter
from typing import Any
from uuid import UUID

from agentic.primitives import Element, Pile, Progression

try:
    from lionagi.protocols.generic.element import Element as LElement
    from lionagi.protocols.generic.pile import Pile as LPile
    from lionagi.protocols.generic.progression import Progression as LProgression
except ImportError:  # pragma: no cover - the bench needs the optional `bench` extra
    sys.exit(
        "lionagi is not installed: run with /work/venv-lion/bin/python (pip install '.[bench]')"
    )


def timed(setup: Callable[[], Any], run: Callable[[Any], Any]) -> float:
    """Return the seconds `run(setup())` takes (setup untimed)."""
    state = setup()
    gc.collect()
    start = time.perf_counter()
    run(state)
    return time.perf_counter() - start


# -- the operations, written once per library ---------------------------------------


def create(kind: type, n: int) -> Callable[[], tuple[Any, Any]]:
    def setup() -> tuple[Any, Any]:
        return kind, n

    return setup


def run_create(state: tuple[Any, int]) -> None:
    kind, n = state
    for _ in range(n):
        kind()


def include_one_by_one(pile_factory: Callable[[], Any], elements: list[Any]) -> Callable[[], Any]:
    def setup() -> tuple[Any, list[Any]]:
        return pile_factory(), elements

    return setup


def run_include(state: tuple[Any, list[Any]]) -> None:
    pile, elements = state
    include = pile.include
    for element in elements:
        include(element)


def run_lookups(state: tuple[Any, list[Any]]) -> None:
    pile, keys = state
    for key in keys:
        pile[key]


def touched(pile: Any, element: Any) -> Any:
    """Return `pile` after a write (an include and an exclude), so no cached snapshot helps."""
    pile.include(element)
    pile.exclude(element)
    return pile


def run_iterate(state: Any) -> None:
    for _ in state:
        pass


def run_progression(state: tuple[Any, list[Any], list[Any]]) -> None:
    progression, to_add, to_remove = state
    append = progression.append
    for key in to_add:
        append(key)
    remove = progression.remove
    for key in to_remove:
        remove(key)


def run_removals(state: tuple[Any, list[Any]]) -> None:
    progression, to_remove = state
    remove = progression.remove
    for key in to_remove:
        remove(key)


def run_round_trip(state: tuple[type, Any]) -> None:
    kind, pile = state
    restored = kind.from_json(pile.to_json())
    assert len(restored) == len(pile)


def run_threads(state: tuple[Any, list[list[Any]]]) -> None:
    pile, chunks = state

    def work(chunk: list[Any]) -> None:
        include = pile.include
        for element in chunk:
            include(element)

    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(pile) == sum(len(c) for c in chunks)


def middle_ids(ids: list[Any], count: int) -> list[Any]:
    """Return `count` ids from the middle half of `ids`, in random order."""
    quarter = len(ids) // 4
    rng = random.Random(7)
    return rng.sample(ids[quarter : len(ids) - quarter], count)


# -- the table -------------------------------------------------------------------


def rows(n: int) -> list[tuple[str, Callable[[], float], Callable[[], float] | None, str]]:
    """Return (label, agentic timer, lionagi timer, note) for every row."""
    for kind in (Element, LElement):  # warm up both: lazy schema builds, caches
        run_create((kind, 1000))
    a_elems = [Element() for _ in range(n)]
    l_elems = [LElement() for _ in range(n)]
    a_full = Pile(a_elems)
    l_full = LPile(collections=l_elems)
    rng = random.Random(1)
    a_uuid = [e.id for e in a_elems]
    l_uuid = [e.id for e in l_elems]
    rng.shuffle(a_uuid)
    rng.shuffle(l_uuid)
    a_str = [str(k) for k in a_uuid]
    l_str = [str(k) for k in l_uuid]

    small = n // 10
    a_prog_ids = [e.id for e in a_elems[:small]]
    l_prog_ids = [e.id for e in l_elems[:small]]
    a_mid = middle_ids(a_prog_ids, small // 10)
    l_mid = middle_ids(l_prog_ids, small // 10)
    a_big_mid = middle_ids(a_uuid, small)

    a_small_pile = Pile(a_elems[:small])
    l_small_pile = LPile(collections=l_elems[:small])
    quarter = n // 4
    a_chunks = [a_elems[i * quarter : (i + 1) * quarter] for i in range(4)]
    l_chunks = [l_elems[i * quarter : (i + 1) * quarter] for i in range(4)]

    return [
        (
            f"create {n:,} Elements",
            lambda: timed(create(Element, n), run_create),
            lambda: timed(create(LElement, n), run_create),
            "",
        ),
        (
            f"include {n:,} one at a time",
            lambda: timed(include_one_by_one(Pile, a_elems), run_include),
            lambda: timed(include_one_by_one(LPile, l_elems), run_include),
            "lionagi: Pile.include(item)",
        ),
        (
            f"{n:,} lookups by UUID",
            lambda: timed(lambda: (a_full, a_uuid), run_lookups),
            lambda: timed(lambda: (l_full, l_uuid), run_lookups),
            "pile[uuid]",
        ),
        (
            f"{n:,} lookups by UUID string",
            lambda: timed(lambda: (a_full, a_str), run_lookups),
            lambda: timed(lambda: (l_full, l_str), run_lookups),
            "pile[str]",
        ),
        (
            f"ordered iteration of {n:,}, first after a write",
            lambda: timed(lambda: touched(a_full, Element()), run_iterate),
            lambda: timed(lambda: touched(l_full, LElement()), run_iterate),
            "for item in pile; an include+exclude just before (untimed)",
        ),
        (
            f"ordered iteration of {n:,}, unchanged pile",
            lambda: timed(lambda: a_full, run_iterate),
            lambda: timed(lambda: l_full, run_iterate),
            "for item in pile; agentic reuses its snapshot",
        ),
        (
            f"Progression: {small:,} appends + {small // 10:,} middle removals",
            lambda: timed(lambda: (Progression(), a_prog_ids, a_mid), run_progression),
            lambda: timed(lambda: (LProgression(), l_prog_ids, l_mid), run_progression),
            "append(id), remove(id)",
        ),
        (
            f"Progression: {small:,} middle removals from {n:,}",
            lambda: timed(lambda: (Progression(a_uuid), a_big_mid), run_removals),
            None,
            "agentic only (lionagi's remove is O(n))",
        ),
        (
            f"JSON round trip of a {small:,} pile",
            lambda: timed(lambda: (Pile, a_small_pile), run_round_trip),
            lambda: timed(lambda: (LPile, l_small_pile), run_round_trip),
            "to_json() then Pile.from_json()",
        ),
        (
            f"4 threads x {quarter:,} concurrent includes",
            lambda: timed(lambda: (Pile(), a_chunks), run_threads),
            lambda: timed(lambda: (LPile(), l_chunks), run_threads),
            "one shared pile, include(item)",
        ),
    ]


ALONE = """
import gc, random, statistics, sys, time
n = int(sys.argv[2])
if sys.argv[1] == "agentic":
    from agentic.primitives import Element, Pile
    elements = [Element() for _ in range(n)]
    pile = Pile(elements)
else:
    from lionagi.protocols.generic.element import Element
    from lionagi.protocols.generic.pile import Pile
    elements = [Element() for _ in range(n)]
    pile = Pile(collections=elements)
keys = [e.id for e in elements]
random.Random(1).shuffle(keys)
times = []
for _ in range(5):
    gc.collect()
    start = time.perf_counter()
    for key in keys:
        pile[key]
    times.append(time.perf_counter() - start)
print(statistics.median(times))
"""


def lookups_alone(n: int) -> None:
    """Time UUID lookups with each library alone in a fresh process (median of 5)."""
    import subprocess

    results = {}
    for library in ("agentic", "lionagi"):
        out = subprocess.run(
            [sys.executable, "-c", ALONE, library, str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        results[library] = float(out.stdout.strip())
    a, b = results["agentic"], results["lionagi"]
    print(
        f"| {n:,} lookups by UUID, each library alone | {fmt(a)} | {fmt(b)} | {b / a:.1f}x | separate processes |"
    )


class EmptyGetitem:
    """The cheapest subscript a Python class can have: `__getitem__` returns None."""

    __slots__ = ()

    def __getitem__(self, key: Any) -> None:
        return None


class MinimalGetitem:
    """A class whose `__getitem__` is only the dict probe a Pile does for a UUID key."""

    __slots__ = ("_items",)

    def __init__(self, items: dict[int, Any]) -> None:
        self._items = items

    def __getitem__(self, key: Any) -> Any:
        return self._items[key.int]


class CHashId(UUID):
    """A UUID whose hash runs in C: `__hash__` is a descriptor whose getter is C code.

    `hash()` finds the property, calls `attrgetter("int.__hash__")` (C) and calls the
    bound `int.__hash__` it returns (C): equal to `hash(UUID)`, with no Python frame.
    """

    __slots__ = ()
    __hash__ = property(attrgetter("int.__hash__"))  # type: ignore[assignment]


class NoFrameGetitem:
    """`obj[key]` with no Python frame anywhere: `__getitem__` is a property whose getter
    (C) returns the dict's bound `__getitem__` (C), over a dict keyed by `CHashId`s."""

    __slots__ = ("_get",)
    __getitem__ = property(attrgetter("_get"))

    def __init__(self, items: dict[Any, Any]) -> None:
        self._get = items.__getitem__


def c_hash_ids(keys: list[UUID]) -> dict[UUID, CHashId]:
    """Return a `CHashId` with the same int (the very int object) for every key."""
    out = {}
    for key in keys:
        twin = object.__new__(CHashId)
        object.__setattr__(twin, "int", key.int)
        object.__setattr__(twin, "is_safe", key.is_safe)
        out[key] = twin
    return out


def run_inline(state: tuple[dict[int, Any], list[Any]]) -> None:
    items, keys = state
    for key in keys:
        items[key.int]


def lookup_floor(n: int, repeat: int) -> None:
    """Time `obj[uuid]` per lookup for agentic, lionagi and the floors of a Python lookup.

    Same process, 100,000 random keys per run, the cases interleaved run by run so that
    load from other jobs falls on all of them alike; prints the median per lookup.
    """
    a_elems = [Element() for _ in range(n)]
    l_elems = [LElement() for _ in range(n)]
    pile = Pile(a_elems)
    keys = [e.id for e in a_elems]
    l_keys = [e.id for e in l_elems]
    random.Random(1).shuffle(keys)
    random.Random(1).shuffle(l_keys)
    items = pile._items  # the very dict the pile probes
    twins = c_hash_ids(keys)
    by_twin = {twins[e.id]: e for e in a_elems}
    twin_keys = [twins[key] for key in keys]
    cases: list[tuple[str, Callable[[Any], Any], Any]] = [
        ("lionagi `pile[uuid]`", run_lookups, (LPile(collections=l_elems), l_keys)),
        ("agentic `pile[uuid]`", run_lookups, (pile, keys)),
        (
            "`__getitem__` that is only `self._items[key.int]`",
            run_lookups,
            (MinimalGetitem(items), keys),
        ),
        (
            "no Python frame: C-level `__getitem__` and hash",
            run_lookups,
            (NoFrameGetitem(by_twin), twin_keys),
        ),
        ("`__getitem__` that returns None", run_lookups, (EmptyGetitem(), keys)),
        ("`items[key.int]` inline, no call", run_inline, (items, keys)),
    ]
    times: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    for _ in range(repeat):
        for label, run, state in cases:
            times[label].append(timed(lambda state=state: state, run))
    print()
    print(f"| per lookup, {n:,} random UUID keys | median of {repeat} |")
    print("|---|---:|")
    for label, _, _ in cases:
        print(f"| {label} | {statistics.median(times[label]) / n * 1e9:.0f} ns |")


def fmt(seconds: float) -> str:
    """Format a duration with a fitting unit."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    """Run every row and print the table (Markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (median shown)")
    parser.add_argument("--quick", action="store_true", help="n = 10,000 instead of 100,000")
    parser.add_argument(
        "--alone", action="store_true", help="add UUID lookups with each library in its own process"
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="only time pile[uuid] per lookup against the floors of a Python __getitem__",
    )
    args = parser.parse_args()
    n = 10_000 if args.quick else 100_000
    if args.floor:
        lookup_floor(n, max(args.repeat, 5))
        return

    import lionagi

    print(
        f"python {platform.python_version()}, lionagi {lionagi.__version__}, repeat={args.repeat}"
    )
    print()
    print("| operation | agentic | lionagi 0.36 | ratio (lionagi / agentic) | notes |")
    print("|---|---:|---:|---:|---|")
    for label, ours, theirs, note in rows(n):
        a = statistics.median(ours() for _ in range(args.repeat))
        if theirs is None:
            print(f"| {label} | {fmt(a)} | n/a | n/a | {note} |", flush=True)
            continue
        b = statistics.median(theirs() for _ in range(args.repeat))
        print(f"| {label} | {fmt(a)} | {fmt(b)} | {b / a:.1f}x | {note} |", flush=True)
    if args.alone:
        lookups_alone(n)


if __name__ == "__main__":
    main()
