"""to_chat_messages: a Branch's typed messages as the wire-neutral ChatMessages."""

from __future__ import annotations

from agentic.branches import (
    AssistantMessage,
    SystemMessage,
    ToolCallMessage,
    ToolResultMessage,
    UserMessage,
    to_chat_messages,
)


class TestConvert:
    def test_tool_calls_join_the_assistant_text_before_them(self):
        """An assistant text and the tool calls right after it become one assistant message."""
        messages = [
            SystemMessage(content="sys"),
            UserMessage(content="hi"),
            AssistantMessage(content="let me look"),
            ToolCallMessage(call_id="c1", tool="t", arguments={"a": 1}),
            ToolCallMessage(call_id="c2", tool="u"),
            ToolResultMessage(call_id="c1", tool="t", content="1"),
            ToolResultMessage(call_id="c2", tool="u", content="bad", is_error=True),
            AssistantMessage(content="done"),
        ]
        chat = to_chat_messages(messages)
        assert [m.role for m in chat] == [
            "system",
            "user",
            "assistant",
            "tool",
            "tool",
            "assistant",
        ]
        assert [c.id for c in chat[2].tool_calls] == ["c1", "c2"]
        assert chat[2].content == "let me look"
        assert chat[4].is_error
        assert chat[4].tool_call_id == "c2"

    def test_tool_calls_without_text_get_an_empty_assistant(self):
        """Tool calls with no assistant text before them get an assistant message of their own."""
        chat = to_chat_messages(
            [
                UserMessage(content="go"),
                ToolCallMessage(call_id="c", tool="t"),
                ToolResultMessage(call_id="c", tool="t", content="done"),
            ]
        )
        assert [m.role for m in chat] == ["user", "assistant", "tool"]
        assert chat[1].tool_calls[0].name == "t"

    def test_unanswered_tool_calls_get_an_error_result(self):
        """A tool call with no result after it is answered with an error, in place."""
        chat = to_chat_messages(
            [
                UserMessage(content="go"),
                ToolCallMessage(call_id="c1", tool="t"),
                ToolCallMessage(call_id="c2", tool="u"),
                ToolResultMessage(call_id="c2", tool="u", content="ok"),
                UserMessage(content="next"),
            ]
        )
        assert [m.role for m in chat] == ["user", "assistant", "tool", "tool", "user"]
        assert [m.tool_call_id for m in chat[2:4]] == ["c2", "c1"]
        assert chat[3].is_error
        assert "no result" in (chat[3].content or "")
