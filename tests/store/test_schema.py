"""Opening, schema versions and corrupt records: clear errors, nothing skipped."""

import sqlite3

import pytest

from agentic.store import (
    SCHEMA_VERSION,
    CorruptRecordError,
    NewRecord,
    NotAStoreError,
    Repository,
    SchemaVersionError,
    SQLiteEventStore,
    StoreOpenError,
)


def raw(path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "events.db"
    with SQLiteEventStore(path) as store:
        store.append("a", [NewRecord("t", {"n": n}) for n in range(1, 6)])
    return path


class TestOpening:
    def test_new_file_gets_schema_and_wal(self, tmp_path):
        """A new store records its schema version and runs in WAL mode."""
        path = tmp_path / "events.db"
        SQLiteEventStore(path).close()
        conn = raw(path)
        assert conn.execute("SELECT value FROM agentic_meta").fetchone() == (str(SCHEMA_VERSION),)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)

    def test_not_a_database(self, tmp_path):
        """A file that is not SQLite raises NotAStoreError naming it."""
        path = tmp_path / "events.db"
        path.write_bytes(b"this is not a database, it is a text file " * 100)
        with pytest.raises(NotAStoreError, match=r"events\.db"):
            SQLiteEventStore(path)

    def test_foreign_database(self, tmp_path):
        """A SQLite file with other tables is not taken over."""
        path = tmp_path / "other.db"
        raw(path).execute("CREATE TABLE users (id INTEGER)")
        with pytest.raises(NotAStoreError, match="not an agentic event store"):
            SQLiteEventStore(path)

    def test_refusing_a_foreign_database_changes_nothing(self, tmp_path):
        """A foreign SQLite file is refused as it was: same bytes, same journal mode."""
        path = tmp_path / "other.db"
        conn = raw(path)
        conn.execute("CREATE TABLE users (id INTEGER)")
        conn.execute("INSERT INTO users VALUES (1)")
        conn.close()
        before = path.read_bytes()
        with pytest.raises(NotAStoreError, match=r"other\.db"):
            SQLiteEventStore(path)
        assert path.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]
        conn = raw(path)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        conn.close()

    def test_refusing_a_file_that_is_not_a_database_changes_nothing(self, tmp_path):
        """A file that is not SQLite is refused as it was, with no files left beside it."""
        path = tmp_path / "events.db"
        before = b"this is not a database, it is a text file " * 100
        path.write_bytes(before)
        with pytest.raises(NotAStoreError):
            SQLiteEventStore(path)
        assert path.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["events.db"]

    def test_missing_directory(self, tmp_path):
        """A path in a missing directory raises StoreOpenError (an OSError)."""
        with pytest.raises(StoreOpenError) as info:
            SQLiteEventStore(tmp_path / "nope" / "events.db")
        assert isinstance(info.value, OSError)


class TestSchemaVersion:
    def test_newer_version_is_refused(self, db):
        """A database from a newer agentic raises SchemaVersionError."""
        raw(db).execute("UPDATE agentic_meta SET value = '99' WHERE key = 'schema_version'")
        with pytest.raises(SchemaVersionError, match="newer schema version 99") as info:
            SQLiteEventStore(db)
        assert (info.value.found, info.value.supported) == (99, SCHEMA_VERSION)

    @pytest.mark.parametrize("value", ["banana", None])
    def test_unknown_version_is_refused(self, db, value):
        """A missing or unreadable version raises SchemaVersionError."""
        conn = raw(db)
        if value is None:
            conn.execute("DELETE FROM agentic_meta")
        else:
            conn.execute("UPDATE agentic_meta SET value = ?", (value,))
        with pytest.raises(SchemaVersionError, match="unknown schema version"):
            SQLiteEventStore(db)

    def test_older_version_is_refused(self, db):
        """A version older than the supported one is refused too (no migration yet)."""
        raw(db).execute("UPDATE agentic_meta SET value = '0'")
        with pytest.raises(SchemaVersionError, match="older"):
            SQLiteEventStore(db)


class TestCorruptRecords:
    def test_bad_json_names_position(self, db):
        """A payload that is not JSON raises CorruptRecordError with its position."""
        raw(db).execute("UPDATE records SET payload = x'7b2261223a' WHERE position = 3")
        with SQLiteEventStore(db) as store:
            with pytest.raises(CorruptRecordError, match="position 3") as info:
                list(store.read("a"))
            assert info.value.position == 3
            with pytest.raises(CorruptRecordError):
                list(store.read_all())
            assert [r.position for r in store.read_all(1, 2)] == [1, 2]

    def test_non_object_payload(self, db):
        """A payload that is JSON but not an object is corrupt."""
        raw(db).execute("UPDATE records SET payload = CAST('[1, 2]' AS BLOB) WHERE position = 2")
        with SQLiteEventStore(db) as store, pytest.raises(CorruptRecordError, match="position 2"):
            list(store.read_all())

    def test_missing_position_is_a_gap(self, db):
        """A deleted record shows as a gap, not as a silently shorter log."""
        raw(db).execute("DELETE FROM records WHERE position = 4")
        with SQLiteEventStore(db) as store:
            with pytest.raises(CorruptRecordError, match="missing position 4") as info:
                list(store.read_all())
            assert info.value.position == 4
            with pytest.raises(CorruptRecordError, match="missing sequence 4"):
                list(store.read("a"))

    def test_missing_tail_of_a_stream(self, db):
        """A stream whose last records vanished is corrupt, not shorter."""
        raw(db).execute("DELETE FROM records WHERE position = 5")
        with SQLiteEventStore(db) as store:
            with pytest.raises(CorruptRecordError, match="missing sequence 5"):
                list(store.read("a"))
            assert [r.sequence for r in store.read("a", to_sequence=4)] == [1, 2, 3, 4]

    def test_records_past_the_streams_head_are_not_silently_dropped(self, db):
        """A stream whose recorded head is behind its records is corrupt, not shorter (or empty)."""
        conn = raw(db)
        conn.execute("UPDATE streams SET last_sequence = 3 WHERE stream = 'a'")
        with SQLiteEventStore(db) as store:
            with pytest.raises(CorruptRecordError, match=r"'a'.*sequence 5.*head 3") as info:
                list(store.read("a"))
            assert info.value.position == 4
        conn.execute("DELETE FROM streams")
        with SQLiteEventStore(db) as store, pytest.raises(CorruptRecordError, match="head 0"):
            list(store.read("a"))

    def test_bad_row_is_refused_by_the_schema(self, db):
        """The schema refuses rows no append could write (bad sequence, empty type)."""
        conn = raw(db)
        for bad in (
            "INSERT INTO records VALUES (6, 'a', 0, 't', x'7b7d', 0, NULL, NULL, NULL)",
            "INSERT INTO records VALUES (6, 'a', 6, '', x'7b7d', 0, NULL, NULL, NULL)",
            "INSERT INTO records VALUES (6, 'a', 'six', 't', x'7b7d', 0, NULL, NULL, NULL)",
            "INSERT INTO records VALUES (6, 'a', 6, 't', '{}', 0, NULL, NULL, NULL)",
        ):
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(bad)

    def test_bad_row_written_around_the_checks(self, db):
        """A row that slipped past the checks still shows up as a clear error."""
        conn = raw(db)
        conn.execute("PRAGMA ignore_check_constraints = ON")
        conn.execute("UPDATE records SET sequence = 0 WHERE position = 1")
        with SQLiteEventStore(db) as store, pytest.raises(CorruptRecordError, match="sequence 1"):
            list(store.read("a"))

    def test_corrupt_snapshot(self, db):
        """A snapshot that cannot be decoded raises, it is not ignored."""
        with SQLiteEventStore(db) as store:
            store.save_snapshot("a", 2, {"ok": True}, type="demo")
        raw(db).execute("UPDATE snapshots SET state = x'00ff'")
        with SQLiteEventStore(db) as store, pytest.raises(CorruptRecordError, match="snapshot"):
            store.load_snapshot("a")

    def test_snapshot_of_the_wrong_shape_names_its_position(self, db):
        """A snapshot that decodes but cannot be restored raises CorruptRecordError, not KeyError."""

        class Sum:
            stream_id = "a"

            def __init__(self):
                self.total = 0

            def apply(self, record_type, payload):
                self.total += payload["n"]

            def snapshot_state(self):
                return {"total": self.total}

            def restore(self, state):
                self.total = state["total"]

        with SQLiteEventStore(db) as store:
            store.save_snapshot("a", 3, {"sum": 6}, type="Sum")  # not what Sum.restore reads
            with pytest.raises(CorruptRecordError, match=r"snapshot of stream 'a'") as info:
                Repository(store).load(Sum())
            assert info.value.position == 3
            with pytest.raises(CorruptRecordError):
                Repository(store).replay(Sum(), use_snapshot=True)
            assert Repository(store).load(Sum(), use_snapshot=False).aggregate.total == 15

    def test_replay_stops_at_corruption(self, db):
        """A Repository load over a corrupt record raises instead of half loading."""
        raw(db).execute("UPDATE records SET payload = x'00' WHERE position = 5")

        class Sum:
            stream_id = "a"

            def __init__(self):
                self.total = 0

            def apply(self, record_type, payload):
                self.total += payload["n"]

            def snapshot_state(self):
                return {"total": self.total}

            def restore(self, state):
                self.total = state["total"]

        with SQLiteEventStore(db) as store, pytest.raises(CorruptRecordError):
            Repository(store).load(Sum())
