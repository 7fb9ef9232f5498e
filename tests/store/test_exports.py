"""The public surface of agentic.store."""

import agentic.store
from agentic.errors import AgenticError

EXPECTED = {
    "Aggregate",
    "AppendRequest",
    "AppendResult",
    "ConcurrencyError",
    "CorruptRecordError",
    "DATABASE_NAME",
    "Durability",
    "EventStore",
    "HOME_ENV",
    "IdempotencyConflictError",
    "NewRecord",
    "NotAStoreError",
    "Persisted",
    "PersistentPile",
    "PersistentProgression",
    "Record",
    "Repository",
    "SCHEMA_VERSION",
    "SQLiteEventStore",
    "SchemaVersionError",
    "Snapshot",
    "StoreClosedError",
    "StoreError",
    "StoreOpenError",
    "Subscription",
    "default_home",
    "open_store",
}


class TestExports:
    def test_all_is_pinned(self):
        """__all__ lists exactly the public API (a change here is an API change)."""
        assert set(agentic.store.__all__) == EXPECTED
        for name in EXPECTED:
            assert getattr(agentic.store, name) is not None

    def test_errors_derive_from_agentic_error(self):
        """Every store error is an AgenticError."""
        for name in agentic.store.__all__:
            obj = getattr(agentic.store, name)
            if isinstance(obj, type) and name.endswith("Error"):
                assert issubclass(obj, AgenticError)
