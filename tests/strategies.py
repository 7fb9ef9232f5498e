"""Hypothesis strategies for the primitives: JSON values, generated Element classes, piles."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from uuid import UUID

import pydantic
from hypothesis import strategies as st

from agentic.primitives import Element, Pile

__all__ = [
    "element_classes",
    "elements",
    "instances_of",
    "json_values",
    "piles",
]

_names = itertools.count()

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
TEXT = st.text(max_size=12)
UTC_DATETIMES = st.datetimes(
    min_value=datetime(1970, 1, 2),  # noqa: DTZ001 - made aware by timezones=
    max_value=datetime(9999, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


class Color(Enum):
    """An enum to put in generated fields."""

    RED = "red"
    GREEN = "green"


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | INT64 | FLOATS | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
"""Any JSON value orjson writes and reads back unchanged."""

# (annotation, strategy for its values): the field types a generated class may have.
FIELD_TYPES: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (int, INT64),
    (float, FLOATS),
    (str, st.text(max_size=20)),
    (bool, st.booleans()),
    (bytes, st.binary(max_size=8).map(lambda b: b.hex().encode())),
    (UUID, st.uuids()),
    (datetime, UTC_DATETIMES),
    (Color, st.sampled_from(Color)),
    (int | None, st.none() | INT64),
    (list[int], st.lists(INT64, max_size=5)),
    (tuple[str, int], st.tuples(TEXT, INT64)),
    (dict[str, float], st.dictionaries(TEXT, FLOATS, max_size=4)),
    (set[int], st.sets(st.integers(-100, 100), max_size=4)),
    (list[dict[str, bool]], st.lists(st.dictionaries(TEXT, st.booleans(), max_size=2), max_size=3)),
    (Any, json_values),
]

_field_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: n not in {"id", "created_at", "metadata", "type_name"} and not n.startswith("model_")
)


@st.composite
def element_classes(
    draw: st.DrawFn, base: type[Element] = Element, *, max_fields: int = 4
) -> type[Element]:
    """Build a new Element subclass of `base` with random fields and a unique type name.

    Half the classes take the default type name (module and qualified name), half an
    explicit `type_name=`. The class carries `_strategies`: field name to value strategy.
    """
    names = draw(st.lists(_field_names, max_size=max_fields, unique=True))
    own = getattr(base, "_strategies", {})
    names = [n for n in names if n not in own]
    chosen = [draw(st.sampled_from(FIELD_TYPES)) for _ in names]
    number = next(_names)
    kwargs: dict[str, Any] = {}
    if draw(st.booleans()):
        kwargs["__cls_kwargs__"] = {"type_name": f"generated.T{number}"}
    cls: type[Element] = pydantic.create_model(  # type: ignore[call-overload]
        f"Gen{number}",
        __base__=base,
        __module__="tests.generated",
        **{name: (annotation, ...) for name, (annotation, _) in zip(names, chosen, strict=True)},
        **kwargs,
    )
    cls._strategies = {**own, **{n: s for n, (_, s) in zip(names, chosen, strict=True)}}  # type: ignore[attr-defined]
    return cls


def instances_of(cls: type[Element]) -> st.SearchStrategy[Element]:
    """Build instances of a class made by `element_classes` (or Element itself)."""
    fields: dict[str, st.SearchStrategy[Any]] = dict(getattr(cls, "_strategies", {}))
    return st.builds(
        cls,
        metadata=st.dictionaries(TEXT, json_values, max_size=3),
        created_at=UTC_DATETIMES,
        **fields,
    )


def elements() -> st.SearchStrategy[Element]:
    """An instance of a freshly generated Element subclass (sometimes a subclass of one)."""
    classes = element_classes() | element_classes().flatmap(element_classes)
    return classes.flatmap(instances_of)


@st.composite
def piles(draw: st.DrawFn, *, max_size: int = 8) -> Pile[Any]:
    """A pile of a generated item type, strict or not, holding instances of it or its subclasses."""
    item_type = draw(element_classes())
    strict = draw(st.booleans())
    kinds = [item_type]
    if not strict:
        kinds += draw(st.lists(element_classes(item_type), max_size=2))
    items = draw(
        st.lists(
            st.sampled_from(kinds).flatmap(instances_of),
            max_size=max_size,
            unique_by=lambda e: e.id,
        )
    )
    name = draw(st.none() | TEXT)
    return Pile(items, item_type=item_type, strict=strict, name=name)
