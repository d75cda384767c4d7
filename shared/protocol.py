"""The agent <-> server wire protocol: message types, limits, codec and error codes.

Sans-I/O: nothing here touches a socket. Text WebSocket frames carry one JSON object
each, tagged by ``type`` (a msgspec tagged union); unknown types, unknown fields, wrong
types and oversized messages raise :class:`ProtocolError` with a named code. See
docs/protocol.md for the sequence and every field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from shared import clipboard
from shared import scripts as sc
from shared import toolbox as tb
from shared import toolbox_system as ts
from shared import toolfiles as tf
from shared.screen import InputEvent

PROTOCOL_VERSION = 1
# The server accepts the current and the previous version, so agents can be upgraded
# after the server. Version 1 is the first, so there is no previous one yet.
SUPPORTED_VERSIONS: tuple[int, ...] = (1,)
WS_PATH = "/api/v1/agent/ws"

MAX_MESSAGE_BYTES = 4 * 1024 * 1024  # an inventory with thousands of packages fits
MAX_CONTROL_BYTES = 64 * 1024  # every other message
MAX_SECTIONS = 64
LARGE_TYPES = frozenset({"inventory", "ticket"})  # may use MAX_MESSAGE_BYTES
# Other types allowed over MAX_CONTROL_BYTES, with their own limit.
TYPE_LIMITS = {"session_clipboard": clipboard.MAX_FRAME_BYTES,
               "tool_snapshot": ts.SNAPSHOT_BYTES, **tf.TYPE_LIMITS,
               "script_run": sc.RUN_MESSAGE_BYTES}
MAX_REPORT_BATCH = 500

# Error codes, defined once (docs/protocol.md lists their meaning).
MALFORMED = "malformed"
INVALID_MESSAGE = "invalid_message"
UNKNOWN_TYPE = "unknown_type"
TOO_LARGE = "too_large"
UNSUPPORTED_VERSION = "unsupported_version"
AUTH_FAILED = "auth_failed"
REVOKED = "revoked"
UNEXPECTED = "unexpected_message"
BINARY_NOT_ALLOWED = "binary_not_allowed"
INTERNAL = "internal_error"
HELLO_TIMEOUT = "hello_timeout"
CHANNEL_MISMATCH = "channel_mismatch"
BUSY = "busy"
NO_SESSION = "no_session"
# A session or mode answer that allows without the user's consent the server asked for
# (reason "unattended" to consent: true): the session is ended, never recorded as started.
CONSENT_REQUIRED = "consent_required"
# The device already has a live connection (a second agent on the machine, or its state
# copied to another one); the new connection is refused, the live one is untouched.
ALREADY_CONNECTED = "already_connected"

# WebSocket close codes of the agent socket, every one the server uses (docs/protocol.md,
# "Close codes", lists them; a test compares). RFC 6455 section 7.4.1 defines the 1xxx
# ones; 4xxx are the private range (section 7.4.2).
CLOSE_NORMAL = 1000  # the agent closed; the server answers its close
CLOSE_GOING_AWAY = 1001  # the server shuts down, or the agent was silent too long
CLOSE_POLICY = 1008  # no hello in time; too many refused messages; a reader too slow
CLOSE_TOO_BIG = 1009  # a frame over MAX_MESSAGE_BYTES (sent by the WebSocket layer)
CLOSE_INTERNAL = 1011  # the server failed
CLOSE_TRY_LATER = 1013  # the server is overloaded
CLOSE_AUTH_FAILED = 4001
CLOSE_BAD_HELLO = 4002  # the first message was not a valid hello: a client bug, not auth
CLOSE_REVOKED = 4003
CLOSE_UNSUPPORTED_VERSION = 4005
# A second connection of a device whose connection answers is refused with this; a
# connection that stopped answering is closed with it when the device connects again.
CLOSE_ALREADY_CONNECTED = 4009
CLOSE_REPLACED = CLOSE_ALREADY_CONNECTED  # its name while the newest connection won
CLOSE_CHANNEL_MISMATCH = 4010  # the agent saw another certificate than the server has

# Every msgspec pattern in shared/ and server/ ends in "$(?!\n)", never a bare "$": msgspec
# checks patterns with re.search, whose "$" also matches before a final newline, so "bob\n"
# passed as a login. ("$(?!\n)" means the same in Python and in the ECMAScript of JSON
# Schema, where "\Z" does not exist; tests/shared/test_patterns.py walks every pattern.)
# An OS login as a device reports it:
LOGIN_PATTERN = r"^[A-Za-z0-9._@-]+$(?!\n)"
DeviceId = Annotated[str, Meta(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                       r"[0-9a-f]{4}-[0-9a-f]{12}$(?!\n)")]
MessageId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$(?!\n)")]
B64 = Annotated[str, Meta(max_length=200, pattern=r"^[A-Za-z0-9_-]+={0,2}$(?!\n)")]
ShortText = Annotated[str, Meta(max_length=200)]
Percent = Annotated[float, Meta(ge=0, le=100)]
Digest = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$(?!\n)")]
SectionName = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$(?!\n)")]


class ProtocolError(Exception):
    """A message broke the protocol; ``code`` is one of the named error codes."""

    def __init__(self, code: str, message: str, *, msg_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.msg_id = msg_id


class Message(Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    """Base of every message; ``type`` is the tag."""


# --- server -> agent ---------------------------------------------------------------


class Challenge(Message, tag="challenge"):
    """Sent by the server as soon as the WebSocket opens."""

    nonce: B64
    protocols: list[int]


class Welcome(Message, tag="welcome"):
    """Authentication succeeded; what the server already holds of this device."""

    protocol: int
    device_id: DeviceId
    heartbeat_interval: float
    inventory_digests: dict[SectionName, Digest]
    server_time: float


class Ack(Message, tag="ack"):
    """A message with this id was stored (reports, inventory)."""

    id: MessageId


class HeartbeatAck(Message, tag="heartbeat_ack"):
    """Answer to a heartbeat, for round-trip time."""

    seq: int


class Error(Message, tag="error"):
    """Something the peer sent was refused; ``fatal`` errors close the connection."""

    code: ShortText
    message: Annotated[str, Meta(max_length=2000)]
    id: MessageId | None = None
    fatal: bool = False


# --- agent -> server ---------------------------------------------------------------


class Hello(Message, tag="hello"):
    """The agent's first message: version, identity and the signed challenge."""

    protocol: int
    device_id: DeviceId
    agent_version: ShortText
    capabilities: list[ShortText]
    signature: B64
    # SHA-256 of the server certificate the agent saw (base64url); also covered by the
    # signature. Lets the server tell a changed certificate from a forged signature.
    channel: B64 | None = None


class Metrics(Struct, forbid_unknown_fields=True, kw_only=True):
    """A health sample taken on the device."""

    cpu_percent: Percent
    memory_percent: Percent
    disk_percent: Percent
    load1: Annotated[float, Meta(ge=0)] | None = None


class Heartbeat(Message, tag="heartbeat"):
    """Liveness, with the newest sample."""

    seq: Annotated[int, Meta(ge=0)]
    metrics: Metrics | None = None


class Inventory(Message, tag="inventory"):
    """Inventory sections that changed (all of them on first contact)."""

    id: MessageId
    sections: dict[SectionName, Any]
    digests: dict[SectionName, Digest]


class MetricsSample(Struct, forbid_unknown_fields=True, kw_only=True):
    """A sample with the time it was taken (seconds since the epoch)."""

    at: Annotated[float, Meta(ge=0, le=4_102_444_800)]  # up to the year 2100
    metrics: Metrics


class Report(Message, tag="report"):
    """Samples taken while offline, sent once the connection is back."""

    id: MessageId
    kind: Literal["metrics"]
    samples: Annotated[list[MetricsSample], Meta(max_length=MAX_REPORT_BATCH)]


class FileData(Struct, forbid_unknown_fields=True, kw_only=True):
    """A small file carried inside a message (base64, standard alphabet)."""

    filename: Annotated[str, Meta(min_length=1, max_length=200)]
    data: Annotated[str, Meta(max_length=MAX_MESSAGE_BYTES)]


class TicketRequest(Message, tag="ticket"):
    """A ticket raised on the device (tray or ``deskmate-agent ticket``)."""

    id: MessageId
    title: Annotated[str, Meta(min_length=1, max_length=200)]
    requester_login: Annotated[str, Meta(min_length=1, max_length=64, pattern=LOGIN_PATTERN)]
    description: Annotated[str, Meta(max_length=20_000)] = ""
    help_now: bool = False  # the user asks for a remote session
    files: Annotated[list[FileData], Meta(max_length=4)] = []


class TicketCreated(Message, tag="ticket_created"):
    """The ticket a ``ticket`` message created (sent again for a repeated id)."""

    id: MessageId
    ticket_id: int
    number: ShortText


# --- health checks (optional within version 1: capability "health") ---------------

HEALTH_CAPABILITY = "health"
MAX_HEALTH_CHECKS = 64
MAX_HEALTH_RESULTS = 500
CheckKind = Literal["disk", "memory", "cpu", "service", "process"]
CheckState = Literal["ok", "warning", "critical", "unknown"]
Threshold = Annotated[float, Meta(ge=0, le=100)]


class HealthCheck(Struct, forbid_unknown_fields=True, kw_only=True):
    """One check the agent runs, with its levels (percentages; "higher is worse").

    ``disk`` watches the mount point ``target``; ``memory`` and ``cpu`` ignore it;
    ``service`` (a systemd unit) and ``process`` (a process name) are critical when the
    target is not running, and ignore the levels.
    """

    id: Annotated[int, Meta(ge=1)]
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    kind: CheckKind
    target: Annotated[str, Meta(max_length=255)] = ""
    warning: Threshold | None = None
    critical: Threshold | None = None
    # The value compared is the average of the samples taken in the last ``window``
    # seconds (0: the newest sample only).
    window: Annotated[float, Meta(ge=0, le=86_400)] = 0
    # A level is left only when the value is ``hysteresis`` points below its threshold...
    hysteresis: Annotated[float, Meta(ge=0, le=50)] = 0
    # ...and the better state held for ``recover_after`` seconds.
    recover_after: Annotated[float, Meta(ge=0, le=86_400)] = 0
    # While not ok, the newest reading is reported again this often (seconds).
    repeat_interval: Annotated[float, Meta(ge=1, le=86_400)] = 300


class HealthConfig(Message, tag="health_config"):
    """The checks this device runs; replaces any earlier configuration."""

    revision: Digest
    checks: Annotated[list[HealthCheck], Meta(max_length=MAX_HEALTH_CHECKS)]
    interval: Annotated[float, Meta(ge=1, le=3600)] = 15.0  # seconds between samples


class HealthResult(Struct, forbid_unknown_fields=True, kw_only=True):
    """The state of one check at one moment."""

    check_id: Annotated[int, Meta(ge=1)]
    state: CheckState
    value: Annotated[float, Meta(ge=0, le=1e12)] | None = None
    message: Annotated[str, Meta(max_length=500)] = ""
    at: Annotated[float, Meta(ge=0, le=4_102_444_800)]


class HealthReport(Message, tag="health"):
    """Check states that changed (or are still failing), in the order they were taken."""

    id: MessageId
    results: Annotated[list[HealthResult], Meta(min_length=1, max_length=MAX_HEALTH_RESULTS)]


# --- remote sessions (see docs/protocol.md section 4) -------------------------------

SessionId = Annotated[int, Meta(ge=1, le=2**53)]
Mode = Literal["view", "control"]


# An agent announcing this capability tells its user when a session is recorded
# (``record`` in session_request); the server records only such agents' sessions.
RECORDING_CAPABILITY = "remote_recording"
# How the agent serves sessions, as capability "remote_backend:<name>" (x11, gnome-wayland);
# an agent that cannot serve them on this desktop says why: "remote_unavailable:<code>".
REMOTE_BACKEND_PREFIX = "remote_backend:"
REMOTE_UNAVAILABLE_PREFIX = "remote_unavailable:"
# The agent can refine resting areas losslessly (PNG tiles, docs/protocol.md section 4).
LOSSLESS_CAPABILITY = "remote_lossless"


class SessionRequest(Message, tag="session_request", omit_defaults=True):
    """A technician asks to see (or control) the screen; ask the user unless unattended.

    ``record`` is sent only when true (older agents refuse unknown fields), and only to
    agents announcing :data:`RECORDING_CAPABILITY`. ``lossless`` likewise, only to agents
    announcing :data:`LOSSLESS_CAPABILITY`: this server relays PNG tiles, so the agent may
    refine resting areas losslessly.
    """

    session: SessionId
    technician: ShortText
    ticket: ShortText  # the ticket's number, e.g. INC-000042
    title: ShortText
    reason: Annotated[str, Meta(max_length=500)]
    mode: Mode
    consent: bool  # False: the device group allows unattended access
    timeout: Annotated[float, Meta(gt=0, le=600)]
    record: bool = False  # the server records the session's frames: tell the user
    lossless: bool = False  # the server and its viewers take PNG tiles


class SessionMode(Message, tag="session_mode"):
    """Change the session's mode; going to control asks the user again if consent."""

    session: SessionId
    mode: Mode
    consent: bool


class SessionEnd(Message, tag="session_end"):
    """The session is over (technician ended it, ticket rights lost, server stopping)."""

    session: SessionId
    reason: ShortText


class SessionKeyFrame(Message, tag="session_key_frame"):
    """A viewer needs a full picture: send one (flag key) beside the next delta."""

    session: SessionId


class SessionSettings(Message, tag="session_settings"):
    """Viewer choices: JPEG quality (0 = adaptive) and which monitor to stream."""

    session: SessionId
    quality: Annotated[int, Meta(ge=0, le=95)] = 0
    monitor: Annotated[int, Meta(ge=0, le=15)] = 0


class FrameAcked(Message, tag="frame_ack"):
    """The fastest viewer has drawn the frame ``seq`` (flow control)."""

    session: SessionId
    seq: Annotated[int, Meta(ge=0, le=0xFFFFFFFF)]


class SessionInput(Message, tag="input"):
    """One input event from the controlling technician."""

    session: SessionId
    event: InputEvent


class Monitor(Struct, forbid_unknown_fields=True, kw_only=True):
    """One monitor of the endpoint's desktop, in root-window pixels."""

    x: Annotated[int, Meta(ge=-32768, le=32767)]
    y: Annotated[int, Meta(ge=-32768, le=32767)]
    width: Annotated[int, Meta(ge=1, le=16384)]
    height: Annotated[int, Meta(ge=1, le=16384)]


AnswerReason = Literal["allowed", "unattended", "denied", "timeout", "unavailable", "busy"]
ALLOWING_REASONS = frozenset({"allowed", "unattended"})  # exactly the reasons of allowed: true


class SessionAnswer(Message, tag="session_answer"):
    """The user's answer to a session request (or why nobody could answer)."""

    session: SessionId
    allowed: bool
    reason: AnswerReason
    monitors: Annotated[list[Monitor], Meta(max_length=16)] = []


class ModeAnswer(Message, tag="mode_answer"):
    """The user's answer to a change of mode."""

    session: SessionId
    mode: Mode
    allowed: bool
    reason: AnswerReason


class SessionEnded(Message, tag="session_ended"):
    """The agent ended the session (the user pressed End, or the display went away)."""

    session: SessionId
    by: Literal["user", "agent"]
    reason: ShortText


# --- remote clipboard (optional: capability "clipboard", only in control mode) ------

CLIPBOARD_CAPABILITY = clipboard.CAPABILITY


class SessionClipboard(Message, tag="session_clipboard"):
    """Clipboard text: server -> agent, the technician's text to put on the endpoint's
    clipboard; agent -> server, text the user copied on the endpoint. Both only while the
    session is in control mode; the text is checked by :func:`shared.clipboard.text_size`."""

    session: SessionId
    text: str


# --- ticket updates for the device's user (optional: capability "ticket_updates") ---

TICKET_UPDATES_CAPABILITY = "ticket_updates"
MAX_STATUS_TICKETS = 50
UNKNOWN_TICKET = "unknown_ticket"  # not raised from this device by this user (or absent)
NOT_RESOLVED = "not_resolved"  # only a resolved or closed ticket can be rated
ALREADY_RATED = "already_rated"  # one rating per ticket
Login = Annotated[str, Meta(min_length=1, max_length=64, pattern=LOGIN_PATTERN)]
TicketId = Annotated[int, Meta(ge=1, le=2**53)]


class TicketUpdate(Message, tag="ticket_update"):
    """A public change to a ticket raised from this device: a technician's reply or its
    resolution (then the user is asked for a rating)."""

    ticket_id: TicketId
    number: ShortText
    title: Annotated[str, Meta(max_length=200)]
    status: ShortText
    change: Literal["replied", "resolved"]
    requester_login: Login
    event_id: TicketId  # the timeline event; the same event is never sent twice
    text: Annotated[str, Meta(max_length=500)] = ""  # the reply or resolution note, cut


class Rating(Message, tag="rating"):
    """The user's rating of a resolved ticket raised from this device."""

    id: MessageId
    ticket_id: TicketId
    requester_login: Login
    score: Annotated[int, Meta(ge=1, le=5)]
    comment: Annotated[str, Meta(max_length=1000)] = ""


class TicketStatusRequest(Message, tag="ticket_status"):
    """Ask for the current status of tickets this user raised from this device."""

    id: MessageId
    requester_login: Login
    ticket_ids: Annotated[list[TicketId], Meta(min_length=1, max_length=MAX_STATUS_TICKETS)]


class TicketStatusItem(Struct, forbid_unknown_fields=True, kw_only=True):
    """One ticket's current state."""

    ticket_id: TicketId
    number: ShortText
    title: Annotated[str, Meta(max_length=200)]
    status: ShortText
    rated: bool = False


class TicketStatuses(Message, tag="ticket_statuses"):
    """Answer to ``ticket_status``: the asked tickets the user may see; others left out."""

    id: MessageId
    tickets: Annotated[list[TicketStatusItem], Meta(max_length=MAX_STATUS_TICKETS)]


# --- the language of each person bound to a login here (capability "login_languages") --

LOGIN_LANGUAGES_CAPABILITY = "login_languages"
MAX_LOGIN_LANGUAGES = 256
# A language as the server's catalogues name it ("id", "en", "pt-BR", "pt_BR").
LanguageCode = Annotated[str, Meta(min_length=2, max_length=35,
                                   pattern=r"^[A-Za-z]{2,8}(?:[_-][A-Za-z0-9]{1,8})*$(?!\n)")]


class LoginLanguages(Message, tag="login_languages"):
    """The language each person bound to a login of this device chose (logins whose person
    chose none are left out); replaces the previous one."""

    languages: Annotated[dict[Login, LanguageCode], Meta(max_length=MAX_LOGIN_LANGUAGES)]


ServerMessage = (Challenge | Welcome | Ack | HeartbeatAck | Error | TicketCreated
                 | HealthConfig | TicketUpdate | TicketStatuses | LoginLanguages
                 | SessionRequest | SessionMode | SessionEnd | SessionKeyFrame
                 | SessionSettings | FrameAcked | SessionInput | SessionClipboard
                 | tb.ToolRequest | tb.ToolInput | tb.ToolResize | tb.ToolEnd
                 | ts.ToolCall
                 | tf.FileOp | tf.FileRead | tf.FileAck | tf.FileCancel | tf.FileWrite
                 | sc.ScriptRun | sc.ScriptCancel)
AgentMessage = (Hello | Heartbeat | Inventory | Report | TicketRequest | HealthReport | Error
                | Rating | TicketStatusRequest
                | SessionAnswer | ModeAnswer | SessionEnded | SessionClipboard
                | tb.ToolAnswer | tb.ToolOutput | tb.ToolEnded
                | ts.ToolSnapshot | ts.ToolResult | tf.FileReply | tf.FileData
                | sc.ScriptAnswer | sc.ScriptOutput | sc.ScriptDone)

_server_decoder = msgspec.json.Decoder(ServerMessage)
_agent_decoder = msgspec.json.Decoder(AgentMessage)
_encoder = msgspec.json.Encoder()


def encode(message: Message | tb.ToolMessage | sc.ScriptMessage) -> str:
    """Return the text frame for ``message``."""
    return _encoder.encode(message).decode()


def _guess_id(data: bytes) -> str | None:
    """Return the ``id`` of a refused message, if it has a sane one (error path only)."""
    try:
        raw = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return None
    if isinstance(raw, dict):
        value = raw.get("id")
        if isinstance(value, str) and 0 < len(value) <= 64:
            return value
    return None


class _Tag(Struct):
    type: str = ""


_tag_decoder = msgspec.json.Decoder(_Tag)


def _tag_of(raw: bytes) -> str:
    """Return the ``type`` of a large frame without building it (size checks only)."""
    try:
        return _tag_decoder.decode(raw).type
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return ""


def _decode(data: str | bytes, decoder: msgspec.json.Decoder[Any], *, limit: int) -> Any:
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > limit:
        raise ProtocolError(TOO_LARGE, f"message of {len(raw)} bytes exceeds {limit}")
    if len(raw) > MAX_CONTROL_BYTES:
        tag = _tag_of(raw)
        allowed = MAX_MESSAGE_BYTES if tag in LARGE_TYPES else \
            TYPE_LIMITS.get(tag, MAX_CONTROL_BYTES)
        if len(raw) > allowed:
            raise ProtocolError(TOO_LARGE, f"message of {len(raw)} bytes exceeds {allowed}")
    try:
        message = decoder.decode(raw)
    except msgspec.ValidationError as exc:
        text = str(exc)
        msg_id = _guess_id(raw)
        if text.endswith("at `$.type`") or "missing required field `type`" in text:
            raise ProtocolError(UNKNOWN_TYPE, text, msg_id=msg_id) from exc
        raise ProtocolError(INVALID_MESSAGE, text, msg_id=msg_id) from exc
    except msgspec.DecodeError as exc:
        raise ProtocolError(MALFORMED, f"not a JSON message: {exc}") from exc
    except RecursionError as exc:  # absurdly deep nesting
        raise ProtocolError(MALFORMED, "message nested too deeply") from exc
    if isinstance(message, Inventory) and len(message.sections) > MAX_SECTIONS:
        raise ProtocolError(INVALID_MESSAGE, f"more than {MAX_SECTIONS} sections",
                            msg_id=message.id)
    if isinstance(message, SessionClipboard):
        try:
            clipboard.text_size(message.text)
        except clipboard.ClipboardError as exc:
            raise ProtocolError(exc.code, exc.message) from exc
    return message


def decode_agent_message(data: str | bytes) -> AgentMessage:
    """Parse one text frame sent by an agent.

    Args:
        data: the frame's text (or its UTF-8 bytes).

    Raises:
        ProtocolError: the frame is malformed, too large, of unknown type or invalid.
    """
    return _decode(data, _agent_decoder, limit=MAX_MESSAGE_BYTES)  # type: ignore[no-any-return]


def decode_hello(data: str | bytes) -> AgentMessage:
    """Parse an agent's first frame: as any message, but never over 64 KiB.

    Before authentication nobody may make the server parse a large frame.

    Raises:
        ProtocolError: as for :func:`decode_agent_message`.
    """
    return _decode(data, _agent_decoder, limit=MAX_CONTROL_BYTES)  # type: ignore[no-any-return]


def decode_server_message(data: str | bytes) -> ServerMessage:
    """Parse one text frame sent by the server.

    Args:
        data: the frame's text (or its UTF-8 bytes).

    Raises:
        ProtocolError: the frame is malformed, too large, of unknown type or invalid.
    """
    return _decode(data, _server_decoder, limit=MAX_MESSAGE_BYTES)  # type: ignore[no-any-return]


def error_for(exc: ProtocolError, *, fatal: bool = False) -> Error:
    """Return the error message answering a refused frame."""
    return Error(code=exc.code, message=exc.message[:2000], id=exc.msg_id, fatal=fatal)
