"""Tests for agentic.primitives._registry: type names, conflicts, lookups that never import."""

from __future__ import annotations

import sys

import pytest

from agentic.errors import ElementTypeConflictError, UnknownElementTypeError
from agentic.primitives import Element, lookup_type, registered_types


class TestRegistration:
    def test_subclasses_register_on_definition(self):
        """A class statement registers the class under its type name."""

        class Registered(Element, type_name="test.registry.Registered"):
            pass

        assert lookup_type("test.registry.Registered") is Registered
        assert registered_types()["test.registry.Registered"] is Registered

    def test_registered_types_is_a_copy(self):
        """Changing the returned dict does not change the registry."""
        snapshot = registered_types()
        snapshot["test.registry.Fake"] = Element
        with pytest.raises(UnknownElementTypeError):
            lookup_type("test.registry.Fake")

    def test_conflicting_name_is_refused(self):
        """A second, different class under a taken name raises ElementTypeConflictError naming both."""

        class First(Element, type_name="test.registry.Taken"):
            pass

        with pytest.raises(ElementTypeConflictError, match=r"'test.registry.Taken'.*First.*Second"):

            class Second(Element, type_name="test.registry.Taken"):
                pass

        assert lookup_type("test.registry.Taken") is First

    def test_redefinition_of_the_same_class_replaces_it(self):
        """Re-running a class statement (same module and qualname) replaces the old class."""

        def define() -> type[Element]:
            class Again(Element, type_name="test.registry.Again"):
                pass

            return Again

        old, new = define(), define()
        assert old is not new
        assert lookup_type("test.registry.Again") is new

    def test_parametrized_generics_do_not_register(self):
        """`Box[int]` is not a type of its own: only `Box` is registered."""
        from typing import Generic, TypeVar

        T = TypeVar("T")

        class Box(Element, Generic[T], type_name="test.registry.Box"):
            value: T | None = None

        before = set(registered_types())
        Box[int]
        assert set(registered_types()) == before
        assert lookup_type("test.registry.Box") is Box


class TestLookup:
    def test_unknown_name(self):
        """An unknown name raises UnknownElementTypeError naming it."""
        with pytest.raises(UnknownElementTypeError, match=r"'no\.such\.Type'") as info:
            lookup_type("no.such.Type")
        assert info.value.type_name == "no.such.Type"

    def test_lookup_never_imports(self):
        """A dotted name of a real but unimported module is not imported: it is unknown."""
        name = "antigravity.Thing"
        with pytest.raises(UnknownElementTypeError):
            lookup_type(name)
        assert "antigravity" not in sys.modules

    @pytest.mark.parametrize("bad", [None, 3, ["Element"], {"a": 1}])
    def test_non_string_name(self, bad):
        """A non-string name raises UnknownElementTypeError naming its type."""
        with pytest.raises(UnknownElementTypeError, match=f"not {type(bad).__name__}"):
            lookup_type(bad)
