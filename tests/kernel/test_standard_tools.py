"""The standard tools every workflow may use."""

from __future__ import annotations

import asyncio
import math

import pytest

from agentic.kernel import standard_tools

TOOLS = {tool.__name__: tool for tool in standard_tools()}


class TestSleep:
    """`sleep` waits at most 30 s, whatever number it is given."""

    @pytest.mark.parametrize("seconds", [-5.0, 0.0, 0.01])
    def test_short_or_negative_waits_return_what_was_waited(self, seconds: float) -> None:
        """A negative wait is no wait; a short one returns its length."""
        assert asyncio.run(TOOLS["sleep"](seconds)) == max(seconds, 0.0)

    def test_nan_is_refused_not_waited_on_forever(self) -> None:
        """NaN is no number of seconds: refused at once instead of an endless wait."""

        async def bounded() -> float:
            result: float = await asyncio.wait_for(TOOLS["sleep"](math.nan), 5)
            return result

        with pytest.raises(ValueError, match="NaN"):
            asyncio.run(bounded())
