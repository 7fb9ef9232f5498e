"""Branches: actors that hold a conversation, its tools and providers, and its log.

A [`Branch`][agentic.branches.Branch] owns its Managers directly
([`MessageManager`][agentic.branches.MessageManager],
[`ToolManager`][agentic.branches.ToolManager],
[`ProviderManager`][agentic.branches.ProviderManager],
[`LogManager`][agentic.branches.LogManager]); hosts talk to it through a
[`BranchRef`][agentic.branches.BranchRef] from [`spawn_branch()`][agentic.branches.spawn_branch].
"""

from agentic.branches._agent import PLAN_INSTRUCTION
from agentic.branches._branch import STATE_FORMAT, Branch, Fork, RegisterTool, SnapshotJournal
from agentic.branches._convert import to_chat_messages
from agentic.branches._errors import (
    BranchError,
    BranchStateError,
    BranchStoppedError,
    ChatFailedError,
    RequestCancelledError,
)
from agentic.branches._journal import BranchJournal, JournalWriter
from agentic.branches._journal_state import (
    LOG_ADDED,
    LOGS_DROPPED,
    MESSAGE_ADDED,
    SNAPSHOT_TYPE,
    STATE_SET,
    STEP_RECORDED,
    BranchState,
    replay_branch,
)
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
    Accepted,
    AddMessage,
    BranchInfo,
    BranchStatus,
    Cancel,
    Chat,
    ChatDelta,
    ChatModel,
    ChatResult,
    Export,
    Import,
    Info,
    InvokeTool,
    Outcome,
    PlanResult,
    PlanStep,
    ReadMessages,
    Rejected,
    RunPlan,
    StreamStart,
    StructuredResult,
    reply_topic,
    stream_topic,
)
from agentic.branches._provider_manager import PROVIDER_PREFIX, ProviderManager, ProviderTarget
from agentic.branches._ref import DEFAULT_TIMEOUT, BranchRef
from agentic.branches._schema import schema_errors
from agentic.branches._spawn import spawn_branch
from agentic.branches._stream import AsyncChatStream, ChatStream
from agentic.branches._tool_manager import BranchResolver, ToolManager
from agentic.branches._usage import UsageProcessor

__all__ = [
    "DEFAULT_TIMEOUT",
    "LOGS_DROPPED",
    "LOG_ADDED",
    "MESSAGE_ADDED",
    "PLAN_INSTRUCTION",
    "PROVIDER_PREFIX",
    "SNAPSHOT_TYPE",
    "STATE_FORMAT",
    "STATE_SET",
    "STEP_RECORDED",
    "Accepted",
    "AddMessage",
    "AssistantMessage",
    "AsyncChatStream",
    "Branch",
    "BranchError",
    "BranchInfo",
    "BranchJournal",
    "BranchRef",
    "BranchResolver",
    "BranchState",
    "BranchStateError",
    "BranchStatus",
    "BranchStoppedError",
    "Cancel",
    "Chat",
    "ChatDelta",
    "ChatFailedError",
    "ChatModel",
    "ChatResult",
    "ChatStream",
    "Export",
    "Fork",
    "Import",
    "Info",
    "InvokeTool",
    "JournalWriter",
    "LogManager",
    "Message",
    "MessageManager",
    "Outcome",
    "PlanResult",
    "PlanStep",
    "ProviderManager",
    "ProviderTarget",
    "ReadMessages",
    "RegisterTool",
    "Rejected",
    "RequestCancelledError",
    "Role",
    "RunPlan",
    "SnapshotJournal",
    "StreamStart",
    "StructuredResult",
    "SystemMessage",
    "ToolCallMessage",
    "ToolManager",
    "ToolResultMessage",
    "UsageProcessor",
    "UserMessage",
    "replay_branch",
    "reply_topic",
    "schema_errors",
    "spawn_branch",
    "stream_topic",
    "to_chat_messages",
]
