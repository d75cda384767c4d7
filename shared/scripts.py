"""Script runs on the agent link: a reviewed script run once on a device, with its output.

Sans-I/O, like :mod:`shared.protocol`, which puts these messages in its unions. The server
sends ``script_run`` only to an agent that announced :data:`SCRIPTS_CAPABILITY`; the agent
answers ``script_answer`` (started as which account, or refused and why), streams
``script_output`` and ends with ``script_done`` (docs/protocol.md, section 3.3).

Parameters never touch the script's text: each is an environment variable
``PARAM_<NAME>`` (:func:`environment`), so a value like ``; rm -rf /`` is only data.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from msgspec import Meta, Struct

# An agent that runs scripts lists this in hello.capabilities.
SCRIPTS_CAPABILITY = "scripts"

Language = Literal["bash", "python"]
LANGUAGES: tuple[str, ...] = ("bash", "python")

MAX_BODY_BYTES = 64 * 1024  # UTF-8 bytes of a script's text (one argv string, under 128 KiB)
MAX_PARAMS = 32
MAX_VALUE_CHARS = 4096
MAX_TIMEOUT = 24 * 3600  # seconds
MAX_OUTPUT_CHARS = 8192  # characters per script_output message
# A script_run may exceed the 64 KiB control limit: JSON escapes can grow a body six-fold.
RUN_MESSAGE_BYTES = 512 * 1024
PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$(?!\n)")
ENV_PREFIX = "PARAM_"

RunId = Annotated[int, Meta(ge=1, le=2**53)]
ShortText = Annotated[str, Meta(max_length=200)]
ParamName = Annotated[str, Meta(pattern=PARAM_NAME.pattern)]
ParamValue = Annotated[str, Meta(max_length=MAX_VALUE_CHARS)]

# Why an agent refuses (allowed: false) or what allowed it (allowed: true), as tool_answer.
AnswerReason = Literal["allowed", "unattended", "denied", "timeout", "unavailable",
                       "busy", "not_permitted"]
ALLOWING_REASONS = frozenset({"allowed", "unattended"})


class ScriptMessage(Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    """Base of the script-run messages; ``type`` is the tag."""


class ScriptRun(ScriptMessage, tag="script_run", omit_defaults=True):
    """Run this script once; ask the user first unless ``consent`` is false.

    ``params`` become environment variables (``PARAM_<NAME>``); ``max_output`` caps the
    bytes of stdout and stderr together that the agent sends back.
    """

    run: RunId
    script: ShortText
    version: Annotated[int, Meta(ge=1, le=2**31)]
    language: Language
    body: Annotated[str, Meta(min_length=1, max_length=MAX_BODY_BYTES)]
    params: Annotated[dict[ParamName, ParamValue], Meta(max_length=MAX_PARAMS)]
    timeout: Annotated[int, Meta(ge=1, le=MAX_TIMEOUT)]
    max_output: Annotated[int, Meta(ge=1024, le=64 * 1024 * 1024)]
    technician: ShortText
    ticket: ShortText
    title: ShortText
    reason: Annotated[str, Meta(max_length=500)]
    consent: bool
    consent_timeout: Annotated[float, Meta(gt=0, le=600)]
    root: bool = False


class ScriptAnswer(ScriptMessage, tag="script_answer", omit_defaults=True):
    """The agent's answer: the script started (as which account) or was refused (why)."""

    run: RunId
    allowed: bool
    reason: AnswerReason
    account: Annotated[str, Meta(max_length=64)] = ""
    message: Annotated[str, Meta(max_length=500)] = ""


class ScriptOutput(ScriptMessage, tag="script_output"):
    """A piece of what the script printed (UTF-8 decoded, never a split character)."""

    run: RunId
    stream: Literal["stdout", "stderr"]
    data: Annotated[str, Meta(min_length=1, max_length=MAX_OUTPUT_CHARS)]


class ScriptDone(ScriptMessage, tag="script_done", omit_defaults=True):
    """The script is over: its exit code, or killed at its timeout or on cancel."""

    run: RunId
    exit_code: Annotated[int, Meta(ge=-255, le=255)] | None = None  # negative: a signal
    timed_out: bool = False
    cancelled: bool = False
    truncated: bool = False  # output past max_output was read and dropped
    message: Annotated[str, Meta(max_length=500)] = ""


class ScriptCancel(ScriptMessage, tag="script_cancel"):
    """Stop the run (the technician cancelled it, the server is stopping)."""

    run: RunId
    reason: ShortText


SERVER_SCRIPT_MESSAGES = (ScriptRun, ScriptCancel)
AGENT_SCRIPT_MESSAGES = (ScriptAnswer, ScriptOutput, ScriptDone)


def environment(params: dict[str, str]) -> dict[str, str]:
    """Return the environment variables that carry a run's parameters.

    Args:
        params: parameter names (``PARAM_NAME`` pattern) and their values as text.

    Raises:
        ValueError: a name that does not fit the pattern, or a value with a NUL byte.
    """
    env: dict[str, str] = {}
    for name, value in params.items():
        if not PARAM_NAME.match(name):
            raise ValueError(f"bad parameter name {name!r}")
        if "\x00" in value:
            raise ValueError(f"parameter {name!r} holds a NUL character")
        env[ENV_PREFIX + name.upper()] = value
    return env
