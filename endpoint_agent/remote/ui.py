"""The user's side of a session: a consent dialog and an always-visible indicator (Tk).

Each runs as its own process (``python -m endpoint_agent.remote.ui consent|indicator``)
on the user's display, so a Tk failure cannot take the agent down and Tk keeps the main
thread it wants. The consent dialog prints ``allow``, ``deny`` or ``timeout`` and exits;
no answer in time is a refusal. The indicator shows who is watching and prints ``end``
when the user presses End session (or closes it); it reads ``mode view|control`` lines
on stdin and closes when stdin does. With ``--recorded`` both say that the session is
recorded.
"""

from __future__ import annotations

import argparse
import sys
import threading

DIALOG_TITLE = "Deskmate: remote session request"
INDICATOR_TITLE = "Deskmate: remote session"
DIALOG_SIZE = (520, 240)
# Buttons placed at fixed spots inside the dialog (x, y, width, height): predictable for
# keyboardless kiosks and for the tests that press them through X.
ALLOW_BUTTON = (290, 176, 110, 44)
DENY_BUTTON = (400 + 10, 176, 100, 44)
INDICATOR_SIZE = (470, 44)
END_BUTTON = (350, 6, 112, 32)
RECORDED_TEXT = "\u25cf This session is recorded."
RECORDED_HEIGHT = 22  # the indicator grows by a line when the session is recorded


def _consent(args: argparse.Namespace) -> str:
    import tkinter as tk

    root = tk.Tk(className="deskmate-consent")
    root.title(DIALOG_TITLE)
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

    wants = ("see and control your screen (mouse and keyboard)" if args.mode == "control"
             else "see your screen")
    if args.kind == "control":
        wants = "take control of your mouse and keyboard"
    tk.Label(root, text=f"{args.technician} wants to {wants}", bg="#ffffff",
             font=("Helvetica", 13, "bold"), wraplength=w - 40, justify="left").place(
        x=20, y=16, width=w - 40, height=48)
    tk.Label(root, text=f"Ticket {args.ticket}: {args.title}", bg="#ffffff",
             wraplength=w - 40, justify="left", anchor="w").place(x=20, y=68, width=w - 40,
                                                                  height=26)
    tk.Label(root, text=f"Reason: {args.reason}", bg="#ffffff", wraplength=w - 40,
             justify="left", anchor="w").place(x=20, y=96, width=w - 40, height=40)
    countdown = tk.Label(root, bg="#ffffff", fg="#555555", anchor="w")
    countdown.place(x=20, y=140, width=w - 40, height=24)
    if args.recorded:  # left of the buttons, which keep their place
        tk.Label(root, text=RECORDED_TEXT, bg="#ffffff", fg="#b42318", anchor="w",
                 font=("Helvetica", 11, "bold")).place(
            x=20, y=ALLOW_BUTTON[1], width=ALLOW_BUTTON[0] - 30, height=ALLOW_BUTTON[3])
    allow = tk.Button(root, text="Allow", command=lambda: done("allow"), bg="#1f6feb",
                      fg="#ffffff", activebackground="#1958c9")
    allow.place(x=ALLOW_BUTTON[0], y=ALLOW_BUTTON[1], width=ALLOW_BUTTON[2],
                height=ALLOW_BUTTON[3])
    deny = tk.Button(root, text="Deny", command=lambda: done("deny"))
    deny.place(x=DENY_BUTTON[0], y=DENY_BUTTON[1], width=DENY_BUTTON[2],
               height=DENY_BUTTON[3])
    root.protocol("WM_DELETE_WINDOW", lambda: done("deny"))
    root.bind("<Escape>", lambda _e: done("deny"))

    def tick() -> None:
        if remaining["seconds"] <= 0:
            done("timeout")
            return
        countdown.configure(text=f"Refused automatically in {remaining['seconds']} s "
                                 "unless you allow it.")
        remaining["seconds"] -= 1
        root.after(1000, tick)

    tick()
    print("ready", flush=True)
    root.mainloop()
    return answer["value"]


def _indicator(args: argparse.Namespace) -> str:
    import tkinter as tk

    root = tk.Tk(className="deskmate-indicator")
    root.title(INDICATOR_TITLE)
    w, h = INDICATOR_SIZE
    if args.recorded:
        h += RECORDED_HEIGHT
    root.geometry(f"{w}x{h}+{root.winfo_screenwidth() - w - 8}+8")
    root.resizable(False, False)
    root.attributes("-topmost", True)
    root.configure(bg="#b42318")
    label = tk.Label(root, bg="#b42318", fg="#ffffff", anchor="w",
                     font=("Helvetica", 11, "bold"))
    label.place(x=10, y=6, width=END_BUTTON[0] - 16, height=32)
    if args.recorded:
        tk.Label(root, text=RECORDED_TEXT, bg="#b42318", fg="#ffffff", anchor="w").place(
            x=10, y=INDICATOR_SIZE[1] - 4, width=w - 20, height=RECORDED_HEIGHT)
    state = {"mode": args.mode, "ended": False}

    def show() -> None:
        what = "controls" if state["mode"] == "control" else "sees"
        label.configure(text=f"{args.technician} {what} your screen ({args.ticket})")

    def end() -> None:
        if not state["ended"]:
            state["ended"] = True
            print("end", flush=True)
        root.destroy()

    tk.Button(root, text="End session", command=end).place(
        x=END_BUTTON[0], y=END_BUTTON[1], width=END_BUTTON[2], height=END_BUTTON[3])
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


def main(argv: list[str] | None = None) -> int:
    """Run one window and print its outcome."""
    parser = argparse.ArgumentParser(prog="python -m endpoint_agent.remote.ui")
    parser.add_argument("window", choices=("consent", "indicator"))
    parser.add_argument("--technician", required=True)
    parser.add_argument("--ticket", required=True)
    parser.add_argument("--title", default="")
    parser.add_argument("--reason", default="")
    parser.add_argument("--mode", choices=("view", "control"), default="view")
    parser.add_argument("--kind", choices=("session", "control"), default="session")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--recorded", action="store_true",
                        help="say that the session is recorded")
    args = parser.parse_args(argv)
    if args.window == "consent":
        print(_consent(args), flush=True)
    else:
        _indicator(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
