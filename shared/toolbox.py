"""The technician's toolbox on the agent link: tool sessions (a terminal first).

Sans-I/O, like :mod:`shared.protocol`, which puts these messages in its unions. A *tool
session* is asked for, consented to and ended like a screen session, but carries no
frames: its data travels in text messages. Its ``kind`` says which tool it is; an agent
announces each kind it serves as a capability, and the server never asks an agent for a
kind it did not announce (docs/protocol.md, section 3.2).
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

# An agent that serves terminals lists this in hello.capabilities.
TERMINAL_CAPABILITY = "terminal"
# The kinds of tool session ("processes" and "services": shared/toolbox_system.py;
# "files": shared/toolfiles.py); an agent serves exactly the kinds it lists as
# capabilities.
ToolKind = Literal["terminal", "processes", "services", "files"]
KINDS: tuple[str, ...] = ("terminal", "processes", "services", "files")

MAX_DATA_CHARS = 8192  # characters of terminal text per message, both ways
MAX_COLS = 1000
MAX_ROWS = 500

ToolId = Annotated[int, Meta(ge=1, le=2**53)]
ShortText = Annotated[str, Meta(max_length=200)]
TermData = Annotated[str, Meta(min_length=1, max_length=MAX_DATA_CHARS)]
Cols = Annotated[int, Meta(ge=1, le=MAX_COLS)]
Rows = Annotated[int, Meta(ge=1, le=MAX_ROWS)]

# Why an agent refuses (allowed: false) or what allowed it (allowed: true).
ToolAnswerReason = Literal["allowed", "unattended", "denied", "timeout", "unavailable",
                           "busy", "not_permitted"]
ALLOWING_REASONS = frozenset({"allowed", "unattended"})


class ToolMessage(Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    """Base of the tool-session messages; ``type`` is the tag."""


class ToolRequest(ToolMessage, tag="tool_request", omit_defaults=True):
    """A technician asks to open a tool; ask the user unless ``consent`` is false.

    ``root`` (a terminal as the administrator, or a system tool acting as root),
    ``record`` (the server keeps a transcript) and ``notify`` are sent only when true.
    """

    tool: ToolId
    kind: ToolKind
    technician: ShortText
    ticket: ShortText
    title: ShortText
    reason: Annotated[str, Meta(max_length=500)]
    consent: bool
    timeout: Annotated[float, Meta(gt=0, le=600)]
    root: bool = False
    record: bool = False
    notify: bool = False  # tell the user rather than ask (sent only to "tool_notify" agents)
    cols: Cols = 80
    rows: Rows = 24


class ToolAnswer(ToolMessage, tag="tool_answer", omit_defaults=True):
    """The agent's answer: started (as which account) or refused (and why)."""

    tool: ToolId
    allowed: bool
    reason: ToolAnswerReason
    account: Annotated[str, Meta(max_length=64)] = ""  # the OS account the tool runs as
    message: Annotated[str, Meta(max_length=500)] = ""  # why it was refused, for people


class ToolInput(ToolMessage, tag="tool_input"):
    """Keystrokes or pasted text for the terminal, as the viewer's terminal sent them."""

    tool: ToolId
    data: TermData


class ToolOutput(ToolMessage, tag="tool_output"):
    """What the terminal printed (UTF-8 decoded; a split character waits for its end)."""

    tool: ToolId
    data: TermData


class ToolResize(ToolMessage, tag="tool_resize"):
    """The viewer's terminal has this many columns and rows now."""

    tool: ToolId
    cols: Cols
    rows: Rows


class ToolEnd(ToolMessage, tag="tool_end"):
    """The tool session is over (the technician ended it, rights lost, server stopping)."""

    tool: ToolId
    reason: ShortText


class ToolEnded(ToolMessage, tag="tool_ended", omit_defaults=True):
    """The agent ended the tool session: the shell exited, or the user pressed End."""

    tool: ToolId
    by: Literal["user", "agent"]
    reason: ShortText
    exit_status: Annotated[int, Meta(ge=-255, le=255)] | None = None


SERVER_TOOL_MESSAGES = (ToolRequest, ToolInput, ToolResize, ToolEnd)
AGENT_TOOL_MESSAGES = (ToolAnswer, ToolOutput, ToolEnded)


class Utf8Stream:
    """Decode a byte stream to text without splitting a character across two pieces."""

    def __init__(self) -> None:
        import codecs

        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> str:
        """Return the text of ``data``; an incomplete character at its end waits."""
        return str(self._decoder.decode(data))

    def flush(self) -> str:
        """Return what is left (a broken character becomes U+FFFD)."""
        return str(self._decoder.decode(b"", final=True))


def chunks(text: str, size: int = MAX_DATA_CHARS) -> list[str]:
    """Split ``text`` into pieces of at most ``size`` characters (never a lone surrogate)."""
    return [text[i:i + size] for i in range(0, len(text), size)]
