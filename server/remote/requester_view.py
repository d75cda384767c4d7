"""A remote session's timeline events as the requester reads them (pure functions).

The requester sees who asked to see or control their screen, when, in which mode,
whether the session was recorded and how it ended. What is the desk's stays with the
desk: the relay's counters (frames, bytes, input events), the recording's size, errors
and player, and the device's id.
"""

from __future__ import annotations

from typing import Any

EVENT_TYPE = "remote_session"

# Fields of a step's ``changes`` a requester reads (the rest is the desk's).
REQUESTER_FIELDS = frozenset({"session_id", "step", "mode", "record", "consent", "outcome",
                              "by", "who", "direction", "bytes", "reason", "device_name",
                              "not_recorded"})
BY_TEXT = {"user": "the user", "agent": "the agent", "server": "the server",
           "technician": "the technician"}
MODE_TEXT = {"view": "view only", "control": "control"}


def duration_text(seconds: float) -> str:
    """Return a session's length as people read it ("2 min 5 s", "40 s")."""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def was_recorded(changes: dict[str, Any]) -> bool:
    """Tell whether an ``ended`` step kept a recording of the screen."""
    rec = changes.get("recording")
    return isinstance(rec, dict) and bool(rec.get("frames"))


def ended_text(changes: dict[str, Any]) -> str:
    """Return the requester's line for a session that ran and ended."""
    found = changes.get("summary")
    summary: dict[str, Any] = found if isinstance(found, dict) else {}
    who = changes.get("who") or BY_TEXT.get(str(changes.get("by")), "the desk")
    reason = changes.get("reason")
    ended = f"ended by {who}" + (f" ({reason})" if reason else "")
    watchers = ", ".join(str(w) for w in summary.get("watchers") or []) or "nobody"
    mode = MODE_TEXT.get(str(summary.get("final_mode")), str(summary.get("final_mode")))
    text = (f"Remote session {ended} after {duration_text(summary.get('duration_seconds', 0))}. "
            f"Watched by {watchers}; final mode {mode}.")
    return text + (" It was recorded." if was_recorded(changes) else "")


def for_requester(changes: dict[str, Any], body: str | None) -> tuple[dict[str, Any], str | None]:
    """Return (changes, body) of a remote-session step as its ticket's requester sees them."""
    shown = {k: v for k, v in changes.items() if k in REQUESTER_FIELDS}
    if changes.get("step") != "ended":
        return shown, body
    # Older rows lack "started": a session that ran has a summary with a duration.
    summary = changes.get("summary")
    started = changes.get("started", isinstance(summary, dict)
                          and bool(summary.get("duration_seconds")))
    if not started:
        return shown, body  # "Remote session not started: <why>", in the user's words
    shown["recorded"] = was_recorded(changes)
    if isinstance(summary, dict):
        shown["duration_seconds"] = summary.get("duration_seconds")
        shown["watchers"] = list(summary.get("watchers") or [])
        shown["final_mode"] = summary.get("final_mode")
    return shown, ended_text(changes)
