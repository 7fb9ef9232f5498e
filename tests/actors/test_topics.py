import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic.actors import EventBus, topic_matches


def reference_match(pattern: list[str], topic: list[str]) -> bool:
    """Segment matcher by recursion: the model the regex is checked against."""
    if not pattern:
        return not topic
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(reference_match(rest, topic[i:]) for i in range(len(topic) + 1))
    if not topic:
        return False
    return (head in ("*", topic[0])) and reference_match(rest, topic[1:])


segments = st.sampled_from(["a", "b", "branch", "x1"])
pattern_segments = st.one_of(segments, st.just("*"), st.just("**"))


class TestPatterns:
    @pytest.mark.parametrize(
        ("pattern", "topic", "expected"),
        [
            ("branch.*.message", "branch.b1.message", True),
            ("branch.*.message", "branch.message", False),
            ("branch.*.message", "branch.b1.b2.message", False),
            ("branch.**", "branch", True),
            ("branch.**", "branch.b1.message", True),
            ("branch.**", "branches", False),
            ("**.failed", "actor.nb.failed", True),
            ("**", "anything.at.all", True),
            ("a.**.z", "a.z", True),
            ("a.**.z", "a.b.c.z", True),
            ("actor.*.failed", "actor.nb.stopped", False),
        ],
    )
    def test_examples(self, pattern: str, topic: str, expected: bool) -> None:
        """`*` is one segment, `**` any number of segments."""
        assert topic_matches(pattern, topic) is expected

    @given(
        st.lists(pattern_segments, min_size=1, max_size=5),
        st.lists(segments, min_size=1, max_size=5),
    )
    def test_agrees_with_segment_model(self, pattern: list[str], topic: list[str]) -> None:
        """The compiled pattern matches exactly when the recursive segment model does."""
        expected = reference_match(pattern, topic)
        assert topic_matches(".".join(pattern), ".".join(topic)) is expected

    @pytest.mark.parametrize("pattern", ["a..b", "a*", "*b.c", ""])
    def test_bad_patterns_are_refused(self, pattern: str) -> None:
        """Empty segments and partial stars are errors."""
        with pytest.raises(ValueError, match="bad topic pattern"):
            EventBus().subscribe(pattern)
