"""The user's side of a session: a consent dialog and an always-visible indicator (Tk).

Each runs as its own process (``python -m endpoint_agent.remote.ui consent|indicator``)
on the user's display, so a Tk failure cannot take the agent down and Tk keeps the main
thread it wants. The consent dialog prints ``allow``, ``deny`` or ``timeout`` and exits;
no answer in time is a refusal. The indicator shows who is watching and prints ``end``
when the user presses End session (or closes it); it reads ``mode view|control`` lines
on stdin and closes when stdin does. With ``--recorded`` both say that the session is
recorded.

Names, titles and reasons are as long as people make them: every text is wrapped and
elided to the lines its label has (the technician's name gives way first), so the user
always reads who, what and which ticket. Texts are in the user's language
(:mod:`endpoint_agent.i18n`: DESKMATE_LANGUAGE, the person's as the agent passes it, else
LANGUAGE, LC_ALL, LC_MESSAGES, LANG of the process); the titles below are the English
ones. With ``DESKMATE_UI_REPORT=<file>`` in its environment a window appends what it drew
(texts and geometry) as a JSON line to that file, for tests and support.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from endpoint_agent.i18n import Texts, texts

ENGLISH = Texts("en")
DIALOG_TITLE = ENGLISH("remote.consent.title")
INDICATOR_TITLE = ENGLISH("remote.indicator.title")
DIALOG_SIZE = (520, 240)
# Buttons placed at fixed spots inside the dialog (x, y, width, height): predictable for
# keyboardless kiosks and for the tests that press them through X.
ALLOW_BUTTON = (290, 176, 110, 44)
DENY_BUTTON = (400 + 10, 176, 100, 44)
INDICATOR_SIZE = (470, 44)  # the smallest indicator; it widens for a longer text
INDICATOR_MAX_WIDTH = 720  # and never beyond this (nor the screen)
INDICATOR_MARGIN = 8  # from the screen's top right corner
END_WIDTH = 112
RECORDED_HEIGHT = 22  # the indicator grows by a line when the session is recorded
ELLIPSIS = "\u2026"
TEXT_INSET = 4  # pixels kept free at the end of a line of text
REPORT_ENV = "DESKMATE_UI_REPORT"


def end_button(width: int) -> tuple[int, int, int, int]:
    """Return the End session button (x, y, width, height) of an indicator ``width`` wide."""
    return (width - END_WIDTH - 8, 6, END_WIDTH, 32)


END_BUTTON = end_button(INDICATOR_SIZE[0])


def _label_width(indicator_width: int) -> int:
    """Return the width of the indicator's text, between its left edge and End session."""
    return end_button(indicator_width)[0] - 16


def elide(text: str, width: int, measure: Callable[[str], int], *, suffix: str = "") -> str:
    """Return ``text + suffix`` if it fits ``width``, else the longest start of ``text``
    with an ellipsis before ``suffix`` that fits (``suffix`` is never cut)."""
    if measure(text + suffix) <= width:
        return text + suffix
    lo, hi = 0, len(text)  # the longest prefix that fits lies in [lo, hi)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid].rstrip() + ELLIPSIS + suffix) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS + suffix


def wrap(text: str, width: int, measure: Callable[[str], int], *, lines: int) -> list[str]:
    """Break ``text`` into at most ``lines`` lines of ``width``, by words (a word longer
    than a line is cut); an ellipsis ends the last line when text is left over."""
    out: list[str] = []
    words = text.split()
    while words and len(out) < lines:
        line = words.pop(0)
        while measure(line) > width:  # a word wider than the line: cut it
            cut = len(elide(line, width, measure)) - 1
            cut = max(1, cut)
            words.insert(0, line[cut:])
            line = line[:cut]
        while words and measure(f"{line} {words[0]}") <= width:
            line += " " + words.pop(0)
        out.append(line)
    if words and out:
        out[-1] = elide(out[-1] + " " + " ".join(words), width, measure)
    return out


_NAME = "\x00"  # stands for the name while a text is measured around it


def around_name(text: str) -> tuple[str, str]:
    """Return what a text filled with :data:`_NAME` says before and after the name."""
    before, _, after = text.partition(_NAME)
    return before, after


def indicator_text(technician: str, mode: str, ticket: str, width: int,
                   measure: Callable[[str], int], tr: Texts = ENGLISH) -> str:
    """Return "<who> sees|controls your screen (<ticket>)" in ``width``: the name gives way."""
    key = {"control": "remote.indicator.control", "terminal": "toolbox.indicator.terminal",
           "system": "toolbox.indicator.system",
           "files": "toolbox.indicator.files"}.get(mode, "remote.indicator.view")
    before, after = around_name(tr(key, name=_NAME, ticket=ticket))
    return before + elide(technician, width - measure(before), measure, suffix=after)


def indicator_width(technician: str, ticket: str, screen_width: int,
                    measure: Callable[[str], int], tr: Texts = ENGLISH, *,
                    mode: str = "view") -> int:
    """Return the indicator's width: room for the whole text where the screen allows."""
    keys = ((f"toolbox.indicator.{mode}",) if mode in ("terminal", "files", "system")
            else ("remote.indicator.view", "remote.indicator.control"))
    full = max(measure(tr(key, name=technician, ticket=ticket))  # the longer mode
               for key in keys)
    wanted = full + TEXT_INSET + INDICATOR_SIZE[0] - _label_width(INDICATOR_SIZE[0])
    most = min(INDICATOR_MAX_WIDTH, screen_width - 2 * INDICATOR_MARGIN)
    return max(min(INDICATOR_SIZE[0], most), min(wanted, most))


def _report(root: Any, window: str, labels: dict[str, Any]) -> None:
    """Append what a window drew to the file named by DESKMATE_UI_REPORT (if set)."""
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    import tkinter.font as tkfont

    root.update_idletasks()
    shown = {}
    for name, label in labels.items():
        font = tkfont.Font(root=root, font=label.cget("font"))
        text = str(label.cget("text"))
        shown[name] = {
            "text": text, "x": label.winfo_rootx(), "y": label.winfo_rooty(),
            "width": label.winfo_width(), "height": label.winfo_height(),
            "line_widths": [font.measure(line) for line in text.split("\n")],
            "line_height": font.metrics("linespace")}
    record = {"window": window, "screen": [root.winfo_screenwidth(), root.winfo_screenheight()],
              "geometry": [root.winfo_rootx(), root.winfo_rooty(), root.winfo_width(),
                           root.winfo_height()], "labels": shown}
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def _consent(args: argparse.Namespace) -> str:
    import tkinter as tk

    tr = texts()
    root = tk.Tk(className="deskmate-consent")
    root.title(tr("remote.consent.title"))
    w, h = DIALOG_SIZE
    x = (root.winfo_screenwidth() - w) // 2
    y = (root.winfo_screenheight() - h) // 3
    root.geometry(f"{w}x{h}+{x}+{y}")
    root.resizable(False, False)
    root.attributes("-topmost", True)
    root.configure(bg="#ffffff")
    answer = {"value": "timeout"}
    remaining = {"seconds": max(1, int(args.timeout))}

    def done(value: str) -> None:
        answer["value"] = value
        root.destroy()

    import tkinter.font as tkfont

    wants = tr("remote.consent.view_control" if args.mode == "control"
               else "remote.consent.view")
    if args.kind == "control":
        wants = tr("remote.consent.control")
    elif args.kind in ("terminal", "terminal_root", "files", "files_root"):  # a tool session
        wants = tr(f"toolbox.consent.{args.kind}")
        root.title(tr("toolbox.consent.title"))
    elif args.kind in ("processes", "services"):  # the system tools (endpoint_agent.toolbox)
        wants = tr(f"toolbox.consent.{args.kind}")
        root.title(tr("toolbox.consent.system_title"))
    elif args.kind in ("script", "script_root"):  # a script run (endpoint_agent.toolbox)
        wants = tr(f"toolbox.consent.{args.kind}")
        root.title(tr("toolbox.consent.script_title"))
    line = w - 40 - TEXT_INSET  # labels have no border or padding; a little air stays
    bold = tkfont.Font(root=root, family="Helvetica", size=13, weight="bold")
    plain = tkfont.nametofont("TkDefaultFont")
    # The name gives way so that "wants to" ends the first line; the rest wraps to two.
    before, after = around_name(tr("remote.consent.request", name=_NAME, what=_NAME * 2))
    verb = after.split(_NAME * 2)[0].rstrip()
    who = elide(args.technician, line - bold.measure(before + verb), bold.measure)
    request = tr("remote.consent.request", name=who, what=wants)
    labels = {
        "request": tk.Label(root, text="\n".join(wrap(request, line, bold.measure, lines=2)),
                            bg="#ffffff", font=bold, justify="left", anchor="nw"),
        "ticket": tk.Label(root, text=elide(tr("remote.consent.ticket", number=args.ticket,
                                               title=args.title), line, plain.measure),
                           bg="#ffffff", font=plain, justify="left", anchor="w"),
        "reason": tk.Label(root, text="\n".join(wrap(tr("remote.consent.reason",
                                                         reason=args.reason), line,
                                                      plain.measure, lines=2)),
                           bg="#ffffff", font=plain, justify="left", anchor="nw"),
    }
    labels["request"].place(x=20, y=16, width=w - 40, height=48)
    labels["ticket"].place(x=20, y=68, width=w - 40, height=26)
    labels["reason"].place(x=20, y=96, width=w - 40, height=40)
    countdown = tk.Label(root, bg="#ffffff", fg="#555555", anchor="w", font=plain)
    countdown.place(x=20, y=140, width=w - 40, height=24)
    labels["countdown"] = countdown
    for widget in labels.values():
        widget.configure(bd=0, padx=0, pady=0, highlightthickness=0)
    if args.recorded:  # left of the buttons, which keep their place
        labels["recorded"] = tk.Label(root, text=tr("remote.recorded"), bg="#ffffff",
                                      fg="#b42318",
                                      anchor="w", font=("Helvetica", 11, "bold"))
        labels["recorded"].place(x=20, y=ALLOW_BUTTON[1], width=ALLOW_BUTTON[0] - 30,
                                 height=ALLOW_BUTTON[3])
    allow = tk.Button(root, text=tr("remote.consent.allow"), command=lambda: done("allow"),
                      bg="#1f6feb", fg="#ffffff", activebackground="#1958c9")
    allow.place(x=ALLOW_BUTTON[0], y=ALLOW_BUTTON[1], width=ALLOW_BUTTON[2],
                height=ALLOW_BUTTON[3])
    deny = tk.Button(root, text=tr("remote.consent.deny"), command=lambda: done("deny"))
    deny.place(x=DENY_BUTTON[0], y=DENY_BUTTON[1], width=DENY_BUTTON[2],
               height=DENY_BUTTON[3])
    root.protocol("WM_DELETE_WINDOW", lambda: done("deny"))
    root.bind("<Escape>", lambda _e: done("deny"))

    def tick() -> None:
        if remaining["seconds"] <= 0:
            done("timeout")
            return
        countdown.configure(text=tr("remote.consent.countdown",
                                    seconds=remaining["seconds"]))
        remaining["seconds"] -= 1
        root.after(1000, tick)

    tick()
    _report(root, f"consent-{args.kind}", labels)
    print("ready", flush=True)
    root.mainloop()
    return answer["value"]


def _indicator(args: argparse.Namespace) -> str:
    import tkinter as tk
    import tkinter.font as tkfont

    tr = texts()
    root = tk.Tk(className="deskmate-indicator")
    root.title(tr("remote.indicator.title"))
    font = tkfont.Font(root=root, family="Helvetica", size=11, weight="bold")
    screen_w = root.winfo_screenwidth()
    w = indicator_width(args.technician, args.ticket, screen_w, font.measure, tr, mode=args.mode)
    h = INDICATOR_SIZE[1] + (RECORDED_HEIGHT if args.recorded else 0)
    root.geometry(f"{w}x{h}+{max(0, screen_w - w - INDICATOR_MARGIN)}+{INDICATOR_MARGIN}")
    root.resizable(False, False)
    root.attributes("-topmost", True)
    # A notification window: window managers (GNOME's Mutter among them) do not give it
    # the keyboard focus when it appears, so the user's application keeps it. On GNOME on
    # Wayland a focused Xwayland window otherwise swallowed the first click into a
    # Wayland application (seen on Mutter 43; "utility" did not help).
    root.attributes("-type", "notification")
    root.configure(bg="#b42318")
    label = tk.Label(root, bg="#b42318", fg="#ffffff", anchor="w", font=font, bd=0, padx=0,
                     highlightthickness=0)
    label.place(x=10, y=6, width=_label_width(w), height=32)
    labels = {"status": label}
    if args.recorded:
        labels["recorded"] = tk.Label(root, text=tr("remote.recorded"), bg="#b42318",
                                      fg="#ffffff", anchor="w")
        labels["recorded"].place(x=10, y=INDICATOR_SIZE[1] - 4, width=w - 20,
                                 height=RECORDED_HEIGHT)
    state = {"mode": args.mode, "ended": False}

    def show() -> None:
        label.configure(text=indicator_text(args.technician, state["mode"], args.ticket,
                                            _label_width(w) - TEXT_INSET, font.measure, tr))
        _report(root, "indicator", labels)

    def end() -> None:
        if not state["ended"]:
            state["ended"] = True
            print("end", flush=True)
        root.destroy()

    bx, by, bw, bh = end_button(w)
    tk.Button(root, text=tr("remote.indicator.end"), command=end).place(x=bx, y=by, width=bw,
                                                                        height=bh)
    root.protocol("WM_DELETE_WINDOW", end)
    show()

    def read_stdin() -> None:
        for line in sys.stdin:
            parts = line.split()
            if len(parts) == 2 and parts[0] == "mode" and parts[1] in ("view", "control"):
                root.after(0, lambda m=parts[1]: (state.update(mode=m), show()))
        root.after(0, root.destroy)  # the agent closed our stdin: the session is over

    threading.Thread(target=read_stdin, daemon=True).start()

    def keep_on_top() -> None:
        root.lift()
        root.after(2000, keep_on_top)

    keep_on_top()
    print("ready", flush=True)
    root.mainloop()
    return "closed"


def _notice(args: argparse.Namespace) -> str:
    """Show a notice (a coming reboot) until OK or ``--timeout`` seconds; print ``closed``."""
    import tkinter as tk

    tr = texts()
    root = tk.Tk(className="deskmate-notice")
    root.title(tr("toolbox.notice.title"))
    w, h = DIALOG_SIZE
    root.geometry(f"{w}x{h // 2 + 40}+{(root.winfo_screenwidth() - w) // 2}+{INDICATOR_MARGIN * 4}")
    root.attributes("-topmost", True)
    root.configure(bg="#ffffff")
    seconds = max(0, int(args.timeout))
    text = tr(f"toolbox.notice.{'shutdown' if args.kind == 'shutdown' else 'reboot'}",
              minutes=max(1, round(seconds / 60)))
    if args.reason:
        text += "\n\n" + args.reason
    label = tk.Label(root, text=text, bg="#ffffff", justify="left", anchor="nw",
                     wraplength=w - 40)
    label.place(x=20, y=20, width=w - 40, height=h // 2 - 40)
    tk.Button(root, text=tr("toolbox.notice.ok"), command=root.destroy).place(
        x=w - 120, y=h // 2 - 10, width=100, height=32)
    _report(root, "notice", {"text": label})
    root.after(seconds * 1000 + 1000, root.destroy)
    print("ready", flush=True)
    root.mainloop()
    return "closed"


def main(argv: list[str] | None = None) -> int:
    """Run one window and print its outcome."""
    parser = argparse.ArgumentParser(prog="python -m endpoint_agent.remote.ui")
    parser.add_argument("window", choices=("consent", "indicator", "notice"))
    parser.add_argument("--technician", required=True)
    parser.add_argument("--ticket", required=True)
    parser.add_argument("--title", default="")
    parser.add_argument("--reason", default="")
    parser.add_argument("--mode", choices=("view", "control", "terminal", "files", "system"),
                        default="view")
    parser.add_argument("--kind", choices=("session", "control", "terminal", "terminal_root",
                                           "files", "files_root", "processes", "services",
                                           "reboot", "shutdown", "script", "script_root"),
                        default="session")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--recorded", action="store_true",
                        help="say that the session is recorded")
    args = parser.parse_args(argv)
    if args.window == "consent":
        print(_consent(args), flush=True)
    elif args.window == "notice":
        print(_notice(args), flush=True)
    else:
        _indicator(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
