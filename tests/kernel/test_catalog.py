"""The CLI's state model: Catalog over a real SQLite store, BranchHistory, replay."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from agentic.errors import UnknownElementTypeError
from agentic.kernel import (
    Catalog,
    CatalogInputError,
    Document,
    EntryExistsError,
    EntryNotFoundError,
    Note,
    Task,
    element_type,
    replay,
    resolve_id,
)
from agentic.primitives import Element
from agentic.store import SQLiteEventStore, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteEventStore]:
    """A fresh store in a temporary state directory."""
    opened = open_store(tmp_path / "state")
    yield opened
    opened.close()


def _reopen(store: SQLiteEventStore) -> Catalog:
    return Catalog(store)


class TestTypes:
    """The built-in element types and type lookup."""

    def test_short_names_resolve_to_builtins(self) -> None:
        """`Note`, `Task` and `Document` name the built-in types."""
        assert element_type("Note") is Note
        assert element_type("agentic.Task") is Task
        assert element_type("Document") is Document

    def test_unknown_type_is_refused_without_import(self) -> None:
        """An unregistered name is refused, even one that names an importable module."""
        with pytest.raises(UnknownElementTypeError, match=r"os\.system"):
            element_type("os.system")


class Gadget(Element, type_name="tests.kernel.Gadget"):
    """A type only this test process registers."""

    size: int = 0


def _fresh(code: str, *args: str) -> Any:
    """Run `code` in a fresh interpreter (argv[1:] = args); return the JSON it prints."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class TestLazyKernel:
    """The state model loads without the runtime; stored library types still decode."""

    def test_state_model_loads_without_the_runtime(self) -> None:
        """Importing the kernel and using a Catalog loads no actors, branches, providers, tools."""
        seen = _fresh(
            """
            import json, sys
            import agentic.kernel
            heavy = ["agentic.actors", "agentic.branches", "agentic.providers", "agentic.tools"]
            before = [name for name in heavy if name in sys.modules]
            runner = agentic.kernel.WorkflowRunner
            after = [name for name in heavy if name in sys.modules]
            print(json.dumps({"before": before, "after": after, "runner": runner.__name__}))
            """
        )
        assert seen == {
            "before": [],
            "after": ["agentic.actors", "agentic.branches", "agentic.providers", "agentic.tools"],
            "runner": "WorkflowRunner",
        }

    def test_library_types_match_the_eager_kernel(self) -> None:
        """`load_library_types()` registers every type that importing the whole kernel does."""
        seen = _fresh(
            """
            import json
            from agentic.kernel._cli_types import load_library_types
            from agentic.primitives import registered_types
            first = load_library_types()
            loaded = sorted(registered_types())
            again = load_library_types()
            from agentic.kernel import WorkflowRunner, replay, standard_tools
            import agentic.actors, agentic.providers, agentic.tools, agentic.store
            every = sorted(registered_types())
            print(json.dumps({"first": first, "again": again, "loaded": loaded, "every": every}))
            """
        )
        assert seen["first"] is True
        assert seen["again"] is False
        assert seen["loaded"] == seen["every"]
        assert {"UserMessage", "AssistantMessage", "PlanStep", "Call"} <= set(seen["every"])

    def test_stored_message_elements_decode_in_a_fresh_process(
        self, store: SQLiteEventStore, tmp_path: Path
    ) -> None:
        """A stored UserMessage (element and pile item type) decodes where branches never loaded."""
        catalog = Catalog(store)
        message = catalog.create_element("UserMessage", {"content": "hi"})
        catalog.create_pile("msgs", "UserMessage")
        catalog.pile_add("msgs", [str(message.id)])
        digest = replay(store).digest
        seen = _fresh(
            """
            import json, sys
            from agentic.kernel import Catalog, replay
            from agentic.store import open_store
            store = open_store(sys.argv[1])
            loaded = "agentic.branches" in sys.modules
            catalog = Catalog(store)
            names = catalog.names("pile")
            still = "agentic.branches" in sys.modules
            items = [type(e).__name__ for e in catalog.list_elements()]
            pile = [type(e).__name__ for e in catalog.pile("msgs")]
            digest = replay(store).digest
            print(json.dumps({"loaded": [loaded, still], "items": items, "pile": pile,
                              "names": names, "digest": digest}))
            """,
            str(tmp_path / "state"),
        )
        assert seen == {
            "loaded": [False, False],
            "items": ["UserMessage"],
            "pile": ["UserMessage"],
            "names": ["msgs"],
            "digest": digest,
        }

    def test_a_type_no_package_defines_is_still_an_error(
        self, store: SQLiteEventStore, tmp_path: Path
    ) -> None:
        """An element of a type registered nowhere fails to decode, once, naming the type."""
        Catalog(store).create_element("tests.kernel.Gadget", {"size": 3})
        seen = _fresh(
            """
            import json, sys
            from agentic.kernel import Catalog
            from agentic.store import open_store
            try:
                Catalog(open_store(sys.argv[1])).list_elements()
            except Exception as exc:
                cause = exc.__cause__
                print(json.dumps([type(exc).__name__, type(cause).__name__, str(exc)]))
            """,
            str(tmp_path / "state"),
        )
        assert seen[:2] == ["CorruptRecordError", "UnknownElementTypeError"]
        assert "tests.kernel.Gadget" in seen[2]


class TestElements:
    """Elements live in the `elements` stream and come back typed."""

    def test_create_and_reload(self, store: SQLiteEventStore) -> None:
        """A created element is found by id and by prefix in a new Catalog."""
        made = Catalog(store).create_element("Task", {"title": "x", "priority": 4})
        again = _reopen(store)
        found = again.element(str(made.id)[:6])
        assert isinstance(found, Task)
        assert found.priority == 4
        assert again.list_elements("Note") == []

    def test_reads_do_not_write(self, store: SQLiteEventStore) -> None:
        """Reading an empty catalog appends nothing."""
        catalog = Catalog(store)
        assert catalog.list_elements() == []
        with pytest.raises(EntryNotFoundError):
            catalog.element("abcd")
        assert store.last_position() == 0

    @pytest.mark.parametrize(
        "data",
        [[], "text", {"text": 3}, {"text": "x", "metadata": {"n": 2**70}}, {"title": ""}],
    )
    def test_bad_data_changes_nothing(self, store: SQLiteEventStore, data: object) -> None:
        """Data that is not a valid element is refused before anything is appended."""
        with pytest.raises(CatalogInputError):
            Catalog(store).create_element("Note" if "title" not in str(data) else "Task", data)
        assert store.last_position() == 0


class TestPilesAndProgressions:
    """Named piles and progressions, and the rules between them."""

    def test_typed_pile_refuses_other_types(self, store: SQLiteEventStore) -> None:
        """A pile of Notes refuses a Task, naming the element and the pile."""
        catalog = Catalog(store)
        task = catalog.create_element("Task", {"title": "t"})
        catalog.create_pile("notes", "Note")
        position = store.last_position()
        with pytest.raises(CatalogInputError, match=r"pile 'notes' holds agentic\.Note"):
            catalog.pile_add("notes", [str(task.id)])
        assert store.last_position() == position

    def test_names_are_checked_and_unique(self, store: SQLiteEventStore) -> None:
        """Malformed or taken names are refused."""
        catalog = Catalog(store)
        catalog.create_pile("a")
        with pytest.raises(EntryExistsError):
            catalog.create_pile("a")
        for bad in ("", "-x", "a/b", "x" * 65, "a b"):
            with pytest.raises(CatalogInputError):
                catalog.create_progression(bad)

    def test_progression_order_survives_reopen(self, store: SQLiteEventStore) -> None:
        """append, insert, move and remove are replayed in a new Catalog."""
        catalog = Catalog(store)
        ids = [str(catalog.create_element("Note", {"text": str(i)}).id) for i in range(4)]
        catalog.create_progression("p")
        catalog.progression_append("p", ids[:2])
        catalog.progression_insert("p", 0, ids[2])
        catalog.progression_move("p", ids[0], -1)
        catalog.progression_remove("p", [ids[1]])
        assert [str(k) for k in _reopen(store).progression("p")] == [ids[2], ids[0]]

    def test_bound_progression_takes_only_pile_members(self, store: SQLiteEventStore) -> None:
        """A progression bound to a pile refuses ids outside it; the pile keeps ordered ids."""
        catalog = Catalog(store)
        a, b = (str(catalog.create_element("Note", {"text": t}).id) for t in "ab")
        catalog.create_pile("box")
        catalog.pile_add("box", [a])
        catalog.create_progression("order", "box")
        with pytest.raises(EntryNotFoundError, match="not found in pile 'box'"):
            catalog.progression_append("order", [b])
        catalog.progression_append("order", [a])
        with pytest.raises(CatalogInputError, match="still in progression 'order'"):
            catalog.pile_remove("box", [a])

    def test_a_removal_and_an_append_that_cross_do_not_both_land(
        self, store: SQLiteEventStore
    ) -> None:
        """Two writers, each reading before the other wrote: the second sees the first.

        One removes an element from a pile while the other appends it to a progression
        bound to that pile; whichever lands second checks again and is refused, so no
        progression orders an element its pile does not hold.
        """
        setup = Catalog(store)
        a = str(setup.create_element("Note", {"text": "a"}).id)
        setup.create_pile("box")
        setup.pile_add("box", [a])
        setup.create_progression("order", "box")
        # Remove first: the append's reading of the pile is stale.
        adder, remover = Catalog(store), Catalog(store)
        adder.progression("order"), adder.pile("box")  # read before the removal
        remover.pile_remove("box", [a])
        with pytest.raises(EntryNotFoundError, match="not found in pile 'box'"):
            adder.progression_append("order", [a])
        with pytest.raises(EntryNotFoundError, match="not found in pile 'box'"):
            adder.progression_insert("order", 0, a)
        assert list(_reopen(store).progression("order")) == []
        # Append first: the removal's reading of the progression is stale.
        setup.reload()
        setup.pile_add("box", [a])
        adder, remover = Catalog(store), Catalog(store)
        remover.pile("box"), remover.progression("order")  # read before the append
        adder.progression_append("order", [a])
        with pytest.raises(CatalogInputError, match="still in progression 'order'"):
            remover.pile_remove("box", [a])
        state = _reopen(store)
        assert [str(k) for k in state.progression("order")] == [a]
        assert [str(item.id) for item in state.pile("box")] == [a]

    def test_append_is_all_or_nothing(self, store: SQLiteEventStore) -> None:
        """An append naming one bad id appends none."""
        catalog = Catalog(store)
        a = str(catalog.create_element("Note", {"text": "a"}).id)
        catalog.create_progression("p")
        with pytest.raises(CatalogInputError, match="already in progression"):
            catalog.progression_append("p", [a, a])
        assert len(catalog.progression("p")) == 0


class TestResolveId:
    """Ids and id prefixes."""

    def test_prefix_must_be_unique(self) -> None:
        """A prefix shared by two ids is refused."""
        ids = [
            UUID("abcd0000-0000-0000-0000-000000000000"),
            UUID("abcd1111-0000-0000-0000-000000000000"),
        ]
        with pytest.raises(CatalogInputError, match="matches 2"):
            resolve_id("abcd", ids, where="here")
        assert resolve_id("abcd1", ids, where="here") == ids[1]


class TestReplay:
    """Replay rebuilds everything from the records and digests it."""

    def test_replay_is_read_only_and_stable(self, store: SQLiteEventStore) -> None:
        """Two replays agree; a replay appends nothing; a change changes the digest."""
        catalog = Catalog(store)
        catalog.create_element("Note", {"text": "x"})
        first = replay(store)
        assert replay(store) == first
        assert store.last_position() == first.position
        catalog.create_pile("p")
        assert replay(store).digest != first.digest

    def test_replay_as_of_a_position(self, store: SQLiteEventStore) -> None:
        """A replay as of a past position equals the replay taken when the log ended there."""
        catalog = Catalog(store)
        catalog.create_element("Note", {"text": "x"})
        then = replay(store)
        catalog.create_pile("p")
        catalog.create_element("Note", {"text": "y"})
        assert replay(store, position=then.position) == then
        assert replay(store, position=10**6) == replay(store)

    def test_replay_during_writes_sees_one_position(self, tmp_path: Path) -> None:
        """A replay while another connection writes rebuilds the state as of one position.

        The writer keeps a bound progression consistent with its pile, so a replay that
        read the pile before a change and the progression after it would report a
        problem that no stored state has.
        """
        home = tmp_path / "state"
        setup = open_store(home)
        catalog = Catalog(setup)
        catalog.create_pile("p")
        catalog.create_progression("o", "p")
        errors: list[BaseException] = []

        def write() -> None:
            store = open_store(home)
            try:
                writer = Catalog(store)
                for _ in range(120):
                    key = str(writer.create_element("Note", {"text": "x"}).id)
                    writer.pile_add("p", [key])
                    writer.progression_append("o", [key])
            except BaseException as exc:
                errors.append(exc)
            finally:
                store.close()

        thread = threading.Thread(target=write)
        thread.start()
        reports = []
        try:
            while thread.is_alive() or len(reports) < 3:
                reader = open_store(home)  # as each `agentic-cli replay` does
                try:
                    reports.append(replay(reader))
                finally:
                    reader.close()
        finally:
            thread.join()
        assert errors == []
        assert sum(1 for r in reports if r.problems) == 0
        for report in reports:
            assert replay(setup, position=report.position) == report
        setup.close()


class CatalogMachine(RuleBasedStateMachine):
    """Random edits against a plain model; a reopened Catalog and a replay agree with it."""

    ids = Bundle("ids")

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self._dir = tempfile.TemporaryDirectory()
        self.store = open_store(Path(self._dir.name))
        self.catalog = Catalog(self.store)
        self.catalog.create_pile("pile")
        self.catalog.create_progression("order", "pile")
        self.pile: list[str] = []
        self.order: list[str] = []

    @rule(target=ids, text=st.text(max_size=5))
    def create(self, text: str) -> str:
        return str(self.catalog.create_element("Note", {"text": text}).id)

    @rule(key=ids)
    def add(self, key: str) -> None:
        self.catalog.pile_add("pile", [key])
        if key not in self.pile:
            self.pile.append(key)

    @rule(key=ids, index=st.integers(-3, 3))
    def insert(self, key: str, index: int) -> None:
        position = self.store.last_position()
        try:
            self.catalog.progression_insert("order", index, key)
        except (CatalogInputError, EntryNotFoundError):
            assert self.store.last_position() == position
            assert (
                key not in self.pile
                or key in self.order
                or not -len(self.order) <= index <= len(self.order)
            )
            return
        self.order.insert(index, key)

    @rule(key=ids)
    def remove(self, key: str) -> None:
        position = self.store.last_position()
        try:
            self.catalog.progression_remove("order", [key])
        except EntryNotFoundError:
            assert key not in self.order
            assert self.store.last_position() == position
            return
        self.order.remove(key)

    @invariant()
    def agrees(self) -> None:
        fresh = Catalog(self.store, use_snapshot=False)
        keys = fresh.pile("pile").keys()
        assert [str(k) for k in keys] == self.pile
        assert [str(k) for k in fresh.progression("order")] == self.order
        assert replay(self.store).problems == []

    def teardown(self) -> None:
        self.store.close()
        self._dir.cleanup()


TestCatalogMachine = CatalogMachine.TestCase
TestCatalogMachine.settings = settings(
    max_examples=25,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class TestConcurrentWriters:
    """Catalogs over one store in many threads (each its own connection, like processes)."""

    def test_creates_and_appends_from_many_threads(self, tmp_path: Path) -> None:
        """8 writers, 25 elements each: every element kept, each writer's order kept."""
        home = tmp_path / "state"
        setup = open_store(home)
        Catalog(setup).create_progression("shared")
        writers, per_writer = 8, 25
        made: dict[int, list[str]] = {}
        errors: list[BaseException] = []
        start = threading.Barrier(writers)

        def write(n: int) -> None:
            store = open_store(home)
            try:
                catalog = Catalog(store)
                start.wait()
                mine = []
                for i in range(per_writer):
                    key = str(catalog.create_element("Note", {"text": f"{n}-{i}"}).id)
                    catalog.progression_append("shared", [key])
                    mine.append(key)
                made[n] = mine
            except BaseException as exc:
                errors.append(exc)
            finally:
                store.close()

        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        fresh = Catalog(setup)
        order = [str(key) for key in fresh.progression("shared")]
        assert len(order) == writers * per_writer
        assert len(fresh.list_elements()) == writers * per_writer
        for mine in made.values():
            assert [key for key in order if key in set(mine)] == mine
        assert replay(setup).problems == []
        setup.close()


class TestSnapshots:
    """Changes snapshot their stream every N records; loading uses the snapshot."""

    def test_snapshots_bound_replay_and_agree_with_it(self, store: SQLiteEventStore) -> None:
        """With snapshot_every=3, streams get snapshots; a reopen and a replay agree."""
        catalog = Catalog(store, snapshot_every=3)
        ids = [str(catalog.create_element("Note", {"text": str(i)}).id) for i in range(7)]
        catalog.create_progression("p")
        for key in ids:
            catalog.progression_append("p", [key])
        elements = store.load_snapshot("elements")
        assert elements is not None
        assert elements.sequence == 6  # pile.created + 5 includes: the last multiple of 3
        assert store.load_snapshot("progression-p") is not None
        again = Catalog(store)
        assert [str(e.id) for e in again.list_elements()] == ids
        assert [str(k) for k in again.progression("p")] == ids
        assert replay(store).counts["elements"] == 7
