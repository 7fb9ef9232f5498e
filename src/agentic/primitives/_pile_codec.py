"""How a Pile turns into a document and back: `to_dict`/`to_json`, `from_dict`/`from_json`.

Also the pydantic hook that lets a Pile (or `Pile[Message]`) be a field of an Element.
[`Pile`][agentic.primitives.Pile] takes these methods from `PileCodec`; they are
documented, and called, as Pile's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, get_args
from uuid import UUID

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from agentic.errors import ElementExistsError, ItemTypeError, SerializationError
from agentic.primitives import _codec
from agentic.primitives._pile_index import PileIndex
from agentic.primitives._registry import lookup_type
from agentic.primitives.element import TYPE_KEY, Element

if TYPE_CHECKING:
    from agentic.primitives.pile import Pile

__all__ = ["PileCodec"]

E = TypeVar("E", bound=Element)


def _pile_class() -> type[Pile[Any]]:
    """Return `Pile` (imported late: pile.py imports this module)."""
    from agentic.primitives.pile import Pile  # noqa: PLC0415 - a cycle, resolved at call time

    return Pile


class PileCodec(PileIndex[E]):
    """Serialization of a Pile: documents, JSON and the pydantic field hook."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dict: ordered items with their types, item type, strictness."""
        # Take the snapshot under the lock, serialize outside it: writers wait only for
        # the copy of the order, not for every item's model_dump.
        items = [item.to_dict() for item in self.values()]
        return {
            TYPE_KEY: "Pile",
            "id": str(self._id),
            "name": self.name,
            "item_type": self._item_type.type_name,
            "strict": self._strict,
            "items": items,
        }

    def to_json(self) -> bytes:
        """Return the pile as a JSON document."""
        return _codec.dumps(self.to_dict(), what=self._describe())

    @classmethod
    def from_dict(cls, data: Any, *, item_type: type[Element] | None = None) -> Pile[Any]:
        """Rebuild a pile from [`to_dict()`][agentic.primitives.Pile.to_dict].

        The item type and strictness come from the document, so the reloaded pile
        rejects what the original rejected.

        Args:
            data: The document.
            item_type: The item type to expect when the document names none.

        Raises:
            SerializationError: Malformed document, or an id that appears twice.
            UnknownElementTypeError: An item or the item type names no registered class.
            ItemTypeError: An item does not fit the pile's item type.
        """
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            msg = "a pile document must be an object with an 'items' list"
            raise SerializationError(msg)
        type_name = data.get("item_type")
        resolved = lookup_type(type_name) if type_name is not None else (item_type or Element)
        strict = data.get("strict", False)
        if not isinstance(strict, bool):
            msg = f"pile 'strict' must be true or false, not {strict!r}"
            raise SerializationError(msg)
        name = data.get("name")
        if name is not None and not isinstance(name, str):
            msg = f"pile name must be a string, not {type(name).__name__}"
            raise SerializationError(msg)
        try:
            ident = UUID(data["id"]) if data.get("id") is not None else None
        except (ValueError, TypeError, AttributeError) as exc:
            msg = f"invalid pile id {data.get('id')!r}"
            raise SerializationError(msg) from exc
        items = [resolved.from_dict(item) for item in data["items"]]
        try:
            return _pile_class()(items, item_type=resolved, strict=strict, name=name, id=ident)
        except ElementExistsError as exc:
            msg = f"invalid pile document: {exc}"
            raise SerializationError(msg) from exc

    @classmethod
    def from_json(cls, data: bytes | str) -> Pile[Any]:
        """Rebuild a pile from [`to_json()`][agentic.primitives.Pile.to_json]."""
        return cls.from_dict(_codec.loads(data, what="pile document"))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Let a Pile (or `Pile[Message]`) be a field of an Element.

        The field takes a Pile or a pile document. A pile declared with a wider item
        type is taken when every item fits the field's type: the field then holds a copy
        typed for it (same id, name and order), as pydantic copies a list it validates.
        The JSON Schema is the pile document's, its items the field's item type.
        """
        args = get_args(source)
        expected: type[Element] = args[0] if args and isinstance(args[0], type) else Element
        pile_class = _pile_class()

        def validate(value: Any) -> Pile[Any]:
            pile = (
                value if isinstance(value, pile_class) else cls.from_dict(value, item_type=expected)
            )
            if issubclass(pile.item_type, expected):
                return pile
            misfit = next((item for item in pile if not isinstance(item, expected)), None)
            if misfit is not None:
                got = pile.item_type.type_name
                msg = (
                    f"expected a pile of {expected.type_name!r}, got one of {got!r} holding "
                    f"{misfit.type_name!r} {misfit.id}"
                )
                raise ItemTypeError(msg, expected=expected, actual=type(misfit))
            return pile_class(list(pile), item_type=expected, name=pile.name, id=pile.id)

        document = _document_schema(handler.generate_schema(expected))
        return core_schema.no_info_plain_validator_function(
            validate,
            json_schema_input_schema=document,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda value: value.to_dict()
            ),
        )


def _document_schema(item: core_schema.CoreSchema) -> core_schema.CoreSchema:
    """The schema of a pile document whose items follow `item` (for JSON Schema only)."""
    optional = core_schema.typed_dict_field
    text = core_schema.nullable_schema(core_schema.str_schema())
    return core_schema.typed_dict_schema(
        {
            TYPE_KEY: optional(core_schema.literal_schema(["Pile"]), required=False),
            "id": optional(core_schema.uuid_schema(), required=False),
            "name": optional(text, required=False),
            "item_type": optional(core_schema.str_schema(), required=False),
            "strict": optional(core_schema.bool_schema(), required=False),
            "items": optional(core_schema.list_schema(item), required=True),
        }
    )
