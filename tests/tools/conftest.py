"""Fixtures for the tools tests: audit lines captured instead of printed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import structlog


@pytest.fixture(autouse=True)
def captured_logs() -> Iterator[list[dict[str, Any]]]:
    """Capture structlog output (the library never configures structlog itself)."""
    with structlog.testing.capture_logs() as logs:
        yield logs
