"""Branches: actors that hold a conversation, its tools and providers, and its log.

A [`Branch`][agentic.branches.Branch] owns its Managers directly
([`MessageManager`][agentic.branches.MessageManager],
[`ToolManager`][agentic.branches.ToolManager],
[`ProviderManager`][agentic.branches.ProviderManager],
[`LogManager`][agentic.branches.LogManager]); hosts talk to it through a
[`BranchRef`][agentic.branches.BranchRef] from [`spawn_branch()`][agentic.branches.spawn_branch].
"""

from agentic.branches._branch import STATE_FORMAT, Branch, Fork, RegisterTool
from agentic.branches._convert import to_chat_messages
from agentic.branches._errors import BranchError, BranchStateError, ChatFailedError
from agentic.branches._log_manager import LogManager
from agentic.branches._message_manager import MessageManager
from agentic.branches._messages import (
    AssistantMessage,
    Message,
    Role,
    SystemMessage,
    ToolCallMessage,
    ToolResultMessage,
    UserMessage,
)
from agentic.branches._protocol import (
    AddMessage,
    BranchInfo,
    BranchStatus,
    Chat,
    ChatResult,
    Export,
    Import,
    Info,
    InvokeTool,
    ReadMessages,
)
from agentic.branches._provider_manager import PROVIDER_PREFIX, ProviderManager, ProviderTarget
from agentic.branches._ref import BranchRef, spawn_branch
from agentic.branches._tool_manager import BranchResolver, ToolManager

__all__ = [
    "PROVIDER_PREFIX",
    "STATE_FORMAT",
    "AddMessage",
    "AssistantMessage",
    "Branch",
    "BranchError",
    "BranchInfo",
    "BranchRef",
    "BranchResolver",
    "BranchStateError",
    "BranchStatus",
    "Chat",
    "ChatFailedError",
    "ChatResult",
    "Export",
    "Fork",
    "Import",
    "Info",
    "InvokeTool",
    "LogManager",
    "Message",
    "MessageManager",
    "ProviderManager",
    "ProviderTarget",
    "ReadMessages",
    "RegisterTool",
    "Role",
    "SystemMessage",
    "ToolCallMessage",
    "ToolManager",
    "ToolResultMessage",
    "UserMessage",
    "spawn_branch",
    "to_chat_messages",
]
