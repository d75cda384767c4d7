"""The content of bench/stream.py's scenes: Tk programs and a real terminal emulator.

Each scene is started as its own process on the bench's display (``command``), runs until
killed, and is frozen with SIGSTOP at the end of its window. ``SCENES`` lists them in the
order they run: (name, kind, compared with x11vnc in the same run).
"""

from __future__ import annotations

import sys

SCENES = (
    ("still screen", None, False),
    ("clock + small animation", "small", False),
    ("terminal 1280x720 scrolling", "terminal", True),
    ("xterm: find /usr, flat out", "xterm", True),
    ("xterm: 3 lines per 16 ms", "xterm-paced", True),
    ("window dragged", "drag", True),
    ("whole screen changing", "full", False),
)

# xterm 140x45 (about 1270x750 pixels) in an anti-aliased font, as on a desktop today.
XTERM = ["xterm", "-geometry", "140x45+100+100", "-fa", "DejaVu Sans Mono", "-fs", "11"]
FLAT_OUT = "while :; do find /usr -type f; done"
# The same listing written 3 lines every 16 ms: a terminal jump-scrolling a few lines a frame.
PACED = ("import sys, time\nlines = iter(sys.stdin)\nwhile True:\n"
         "    sys.stdout.write(''.join(next(lines) for _ in range(3)))\n"
         "    sys.stdout.flush()\n    time.sleep(0.016)\n")

CONTENT = r'''
import sys, time, tkinter as tk
kind = sys.argv[1]
root = tk.Tk(className="bench-" + kind)
root.configure(bg="#000000")
if kind == "small":
    root.geometry("420x260+200+200")
    clock = tk.Label(root, font=("Helvetica", 28), fg="#ffffff", bg="#000000")
    clock.pack()
    canvas = tk.Canvas(root, width=400, height=180, bg="#202020", highlightthickness=0)
    canvas.pack()
    ball = canvas.create_oval(0, 70, 40, 110, fill="#ffcc00", width=0)
    state = {"x": 0, "dx": 4}
    def tick():
        clock.configure(text=time.strftime("%H:%M:%S"))
        root.after(250, tick)
    def move():
        state["x"] += state["dx"]
        if state["x"] <= 0 or state["x"] >= 360:
            state["dx"] = -state["dx"]
        canvas.coords(ball, state["x"], 70, state["x"] + 40, 110)
        root.after(16, move)
    tick(); move()
elif kind == "terminal":
    root.geometry("1280x720+100+100")
    text = tk.Text(root, bg="#101010", fg="#d0d0d0", font=("DejaVu Sans Mono", 11),
                   insertwidth=0, highlightthickness=0, bd=0)
    text.pack(fill="both", expand=True)
    state = {"n": 0}
    def line():
        state["n"] += 1
        n = state["n"]
        text.insert("end", "%%08d  build step %%d: compiling module_%%03d.c -> "
                    "obj/module_%%03d.o  [%%s]\n"
                    %% (n, n %% 97, n %% 1000, n %% 1000, "#" * (n %% 40)))
        if n %% 200 == 0:
            text.delete("1.0", "100.0")
        text.see("end")
        root.after(16, line)
    line()
elif kind == "full":
    root.geometry("1920x1080+0+0")
    canvas = tk.Canvas(root, width=1920, height=1080, highlightthickness=0)
    canvas.pack()
    state = {"i": 0}
    def repaint():
        state["i"] += 1
        i = state["i"]
        canvas.delete("all")
        for k in range(24):
            c = (i * 7 + k * 40) %% 256
            canvas.create_rectangle(0, k * 45, 1920, (k + 1) * 45, width=0,
                                    fill="#%%02x%%02x%%02x" %% (c, 255 - c, (c * 3) %% 256))
        root.after(16, repaint)
    repaint()
elif kind == "drag":
    root.geometry("640x400+100+100")
    text = tk.Text(root, bg="#ffffff", fg="#202020", font=("DejaVu Sans Mono", 10),
                   highlightthickness=0, bd=0)
    text.pack(fill="both", expand=True)
    for i in range(40):
        text.insert("end", "%%03d  a window dragged across the screen: pack my box\n" %% i)
    state = {"t": 0}
    def move():
        state["t"] += 1
        t = state["t"] %% 240
        step = t if t < 120 else 240 - t
        root.geometry("+%%d+%%d" %% (100 + step * 8, 100 + step * 3))
        root.after(16, move)
    move()
root.mainloop()
'''.replace("%%", "%")


def command(kind: str) -> list[str]:
    """Return the command line that shows the scene ``kind`` (run with DISPLAY set)."""
    if kind == "xterm":
        return [*XTERM, "-e", "sh", "-c", FLAT_OUT]
    if kind == "xterm-paced":
        return [*XTERM, "-e", "sh", "-c", f"{FLAT_OUT} | {sys.executable} -c \"$PACED\""]
    return [sys.executable, "-c", CONTENT, kind]


def environment(env: dict[str, str]) -> dict[str, str]:
    """Return ``env`` with what the scenes' commands read."""
    return {**env, "PACED": PACED}
