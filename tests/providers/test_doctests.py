"""The examples in the providers' docstrings run and hold."""

import doctest
import importlib
import pkgutil

import pytest

from agentic import providers

MODULES = [f"agentic.providers.{m.name}" for m in pkgutil.iter_modules(providers.__path__)]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    """Every docstring example of the module passes."""
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
