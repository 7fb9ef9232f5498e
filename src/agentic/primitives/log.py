"""Log: the immutable audit record of a finished Event."""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn, Self
from uuid import UUID

from pydantic import ConfigDict, model_validator

from agentic.errors import ImmutableError, SerializationError
from agentic.primitives.element import TYPE_KEY, Element

__all__ = ["Log"]


class Log(Element):
    """An immutable record of a finished Event, for audit.

    `record` holds the Event's whole serialized form (its type, arguments, status and
    execution record) as it was when the Log was made; later changes to the Event do
    not reach it. Nothing in a Log can be changed: its fields refuse assignment and
    `record` and `metadata` are read-only all the way down (they are still a `dict`
    and `list`s, so JSON encoders and `Element.from_dict()` take them as they are).
    [`Element.from_dict()`][agentic.primitives.Element.from_dict] turns `record` back
    into the Event.

    Example:
        >>> from agentic.primitives import Event
        >>> event = Event()
        >>> event.start()
        >>> event.complete({"answer": 42})
        >>> log = event.to_log()
        >>> log.status, log.record["execution"]["response"]
        ('completed', {'answer': 42})
        >>> log.record["status"] = "failed"
        Traceback (most recent call last):
        ...
        agentic.errors.ImmutableError: a Log is immutable: its record and metadata cannot be changed
    """

    model_config = ConfigDict(frozen=True)
    type_name: ClassVar[str] = "Log"

    event_id: UUID
    """The id of the Event this Log records."""
    event_type: str
    """The registered type name of that Event."""
    status: str
    """Its terminal status."""
    record: dict[str, Any]
    """The Event as a JSON-compatible document (read-only)."""

    @model_validator(mode="after")
    def _freeze_documents(self) -> Self:
        # A model validator (not a field one) so the default metadata is frozen too.
        self.__dict__["record"] = _freeze(self.record)
        self.__dict__["metadata"] = _freeze(self.metadata)
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        """Refuse: a Log never changes."""
        msg = f"a Log is immutable: cannot set {name!r} on Log {self.id}"
        raise ImmutableError(msg)

    def __delattr__(self, name: str) -> None:
        """Refuse: a Log never changes."""
        msg = f"a Log is immutable: cannot delete {name!r} from Log {self.id}"
        raise ImmutableError(msg)

    @classmethod
    def of(cls, record: dict[str, Any]) -> Log:
        """Build a Log from a serialized Event document.

        Raises:
            SerializationError: `record` is not an Event document (it lacks `"$type"`,
                `"id"` or `"status"`).
        """
        try:
            return cls(
                event_id=record["id"],
                event_type=record[TYPE_KEY],
                status=record["status"],
                record=record,
            )
        except (KeyError, TypeError) as exc:
            msg = f"a Log needs an Event document with '$type', 'id' and 'status'; missing {exc}"
            raise SerializationError(msg) from exc


def _refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
    msg = "a Log is immutable: its record and metadata cannot be changed"
    raise ImmutableError(msg)


class _FrozenDict(dict[str, Any]):
    """A dict that refuses every change (still a dict for encoders and validators)."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        # copy/pickle would otherwise rebuild us item by item through __setitem__.
        return (_FrozenDict, (dict(self),))


class _FrozenList(list[Any]):
    """A list that refuses every change."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = clear = extend = insert = pop = remove = reverse = sort = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (_FrozenList, (list(self),))


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return _FrozenDict({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return _FrozenList(_freeze(item) for item in value)
    return value
