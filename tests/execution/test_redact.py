"""Tests for redact: secret-looking keys replaced, nothing copied that holds no secret."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agentic.execution import DEFAULT_SECRET_KEYS, REDACTED, is_secret_key, redact

KEYS = st.sampled_from(
    ["name", "content", "role", "api_key", "Password", "x_token", "id", "sessionId", "a", ""]
)
LEAVES = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
VALUES: st.SearchStrategy[Any] = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(KEYS | st.integers(), inner, max_size=4)
    ),
    max_leaves=30,
)


def reference(value: Any, pattern: re.Pattern[str] = DEFAULT_SECRET_KEYS) -> Any:
    """The slow, obviously right redaction: a regex search per key and a full copy."""
    if isinstance(value, dict):
        return {
            key: REDACTED
            if isinstance(key, str) and pattern.search(key)
            else reference(item, pattern)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [reference(item, pattern) for item in value]
    return value


def same_shape(a: Any, b: Any) -> bool:
    """Equal, and tuples/lists of the same kind where they appear (== says [1] != (1,))."""
    return type(a) is type(b) and a == b


class TestRedactMatchesReference:
    @settings(max_examples=300)
    @given(VALUES)
    def test_equals_the_slow_reference(self, value):
        """redact gives exactly what the per-key regex walk gives, for any nesting."""
        assert same_shape(redact(value), reference(value))

    @given(VALUES)
    def test_input_is_never_changed(self, value):
        """The value passed in is left as it was."""
        before = reference(value, re.compile(r"(?!x)x"))  # a deep copy (matches nothing)
        redact(value)
        assert same_shape(reference(value, re.compile(r"(?!x)x")), before)

    @given(VALUES)
    def test_a_custom_pattern(self, value):
        """Another pattern is honoured (and has its own verdicts)."""
        pattern = re.compile(r"^(name|role)$")
        assert same_shape(redact(value, pattern), reference(value, pattern))


class TestRedactCopies:
    def test_nested_lists_and_dicts(self):
        """Redaction walks lists and dicts."""
        assert redact([{"token": 1}, {"ok": [{"secret": 2}]}]) == [
            {"token": REDACTED},
            {"ok": [{"secret": REDACTED}]},
        ]

    def test_plain_values_pass(self):
        """Scalars are returned unchanged."""
        assert redact(5) == 5
        assert redact({"name": "x"}) == {"name": "x"}

    def test_nothing_to_redact_returns_the_same_object(self):
        """A conversation without secret keys is walked, not copied."""
        messages = [{"role": "user", "content": "hi", "metadata": {}} for _ in range(100)]
        value = {"messages": messages, "model": "m"}
        assert redact(value) is value
        assert redact(messages) is messages

    def test_only_the_path_to_a_secret_is_copied(self):
        """Siblings of a redacted value are shared; its ancestors are new."""
        untouched = {"role": "user"}
        value = [untouched, {"auth": "x"}]
        result = redact(value)
        assert result == [{"role": "user"}, {"auth": REDACTED}]
        assert result is not value
        assert result[0] is untouched
        assert value[1] == {"auth": "x"}

    def test_tuples_become_lists(self):
        """A tuple comes back as a list, as its JSON form would."""
        assert redact(("a", {"token": 1})) == ["a", {"token": REDACTED}]
        assert redact(("a", "b")) == ["a", "b"]


class TestSecretKeyVerdicts:
    def test_verdicts(self):
        """Keys are secret when the pattern is found anywhere in them; others are not."""
        assert is_secret_key("api_key")
        assert is_secret_key("X-Authorization")
        assert not is_secret_key("content")
        assert not is_secret_key(7)

    def test_the_pattern_is_searched_once_per_key(self):
        """A key seen before is answered from the cache, not by the regex."""
        searched: list[str] = []

        class Counting:
            def search(self, key: str) -> Any:
                searched.append(key)
                return DEFAULT_SECRET_KEYS.search(key)

        pattern: Any = Counting()
        messages = [{"role": "user", "content": "hi", "token": "t"} for _ in range(50)]
        redacted = redact(messages, pattern)
        redact(messages, pattern)
        assert sorted(searched) == ["content", "role", "token"]
        assert redacted[0] == {"role": "user", "content": "hi", "token": REDACTED}

    def test_the_cache_is_bounded(self):
        """Many distinct keys do not grow the cache without limit."""
        from agentic.execution import _redact

        pattern = re.compile("secret")
        value = {f"key{i}": i for i in range(_redact._VERDICTS_PER_PATTERN + 10)}
        value["my_secret"] = 1
        assert redact(value, pattern)["my_secret"] == REDACTED
        assert len(_redact._cache(pattern)) <= _redact._VERDICTS_PER_PATTERN
