"""The append-only event store: records in streams, replay, snapshots, subscriptions.

The embedded default is [`SQLiteEventStore`][agentic.store.SQLiteEventStore] (stdlib
sqlite3, WAL). [`Repository`][agentic.store.Repository] loads any
[`Aggregate`][agentic.store.Aggregate] from its stream (latest snapshot + tail) and
[`PersistentPile`][agentic.store.PersistentPile] /
[`PersistentProgression`][agentic.store.PersistentProgression] record every change.
See docs/store.md for the durability guarantees.
"""

from agentic.store._aggregate import Aggregate, Persisted, Repository
from agentic.store._errors import (
    ConcurrencyError,
    CorruptRecordError,
    IdempotencyConflictError,
    NotAStoreError,
    SchemaVersionError,
    StoreClosedError,
    StoreError,
    StoreOpenError,
)
from agentic.store._home import DATABASE_NAME, HOME_ENV, default_home, open_store
from agentic.store._persistent_pile import PersistentPile
from agentic.store._persistent_progression import PersistentProgression
from agentic.store._protocol import AppendRequest, EventStore
from agentic.store._record import AppendResult, NewRecord, Record, Snapshot
from agentic.store._schema import SCHEMA_VERSION, Durability
from agentic.store._sqlite import SQLiteEventStore
from agentic.store._subscription import Subscription

__all__ = [
    "DATABASE_NAME",
    "HOME_ENV",
    "SCHEMA_VERSION",
    "Aggregate",
    "AppendRequest",
    "AppendResult",
    "ConcurrencyError",
    "CorruptRecordError",
    "Durability",
    "EventStore",
    "IdempotencyConflictError",
    "NewRecord",
    "NotAStoreError",
    "Persisted",
    "PersistentPile",
    "PersistentProgression",
    "Record",
    "Repository",
    "SQLiteEventStore",
    "SchemaVersionError",
    "Snapshot",
    "StoreClosedError",
    "StoreError",
    "StoreOpenError",
    "Subscription",
    "default_home",
    "open_store",
]
