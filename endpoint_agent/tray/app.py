"""``deskmate-agent tray``: the icon, its menu and the raise-a-ticket dialog (Tk).

All Tk calls happen in the thread that created the Tk root; the icon's thread and
worker threads hand work over through :meth:`TrayApp.call`. Requests to the local agent
run in worker threads so the menu never freezes. A watcher thread follows the agent's
ticket updates and shows each as a toast: a small always-on-top window at the top right
of the screen (no notification daemon is needed, so it works under any X11 session).
Every text is in the language the person bound to this login chose, as the agent says
in its status (the server tells it), else in the desktop session's (:mod:`endpoint_agent.i18n`).

On a desktop whose session bus has a StatusNotifierWatcher (GNOME with AppIndicator,
Plasma, XFCE, Cinnamon, MATE, LXQt...) the icon and its menu are a StatusNotifierItem
(:mod:`endpoint_agent.tray.sni`); elsewhere the XEmbed icon. Where a notification server
runs, ticket updates and answers are desktop notifications (:mod:`endpoint_agent.tray.notify`),
a resolution's rating buttons its actions; elsewhere the toast.
"""

from __future__ import annotations

import base64
import logging
import queue
import threading
import tkinter as tk
import webbrowser
from collections.abc import Callable
from pathlib import Path
from tkinter import ttk
from typing import Any

from endpoint_agent.i18n import Texts, available, texts
from endpoint_agent.tray import local, notify, sni
from endpoint_agent.tray.icon import TrayIcon

log = logging.getLogger("deskmate.agent.tray")

STATUS_MS = 5000
TOAST_MS = 20_000  # a reply's toast closes itself; a rating request waits for the user
WATCH_RETRY = 5.0
STATUSES = ("new", "assigned", "in_progress", "pending", "resolved", "closed", "cancelled")


class Toast:
    """One ticket update on screen; for a resolution, five buttons ask for a rating."""

    WIDTH, HEIGHT = 380, 150

    def __init__(self, app: TrayApp, update: dict[str, Any]) -> None:
        self.app = app
        tr = app.tr
        self.update = update
        self.win = tk.Toplevel(app.root)
        self.win.overrideredirect(True)  # no frame: a notification, not a window
        self.win.attributes("-topmost", True)
        x = self.win.winfo_screenwidth() - self.WIDTH - 12
        self.win.geometry(f"{self.WIDTH}x{self.HEIGHT}+{x}+44")
        frame = tk.Frame(self.win, bg="#ffffff", highlightthickness=1,
                         highlightbackground="#8a94a6", padx=12, pady=8)
        frame.pack(fill="both", expand=True)
        resolved = update["change"] == "resolved"
        heading = tr("tray.toast.resolved" if resolved else "tray.toast.replied",
                     number=update["number"])
        tk.Label(frame, text=heading, bg="#ffffff", font=("TkDefaultFont", 10, "bold"),
                 anchor="w").pack(fill="x")
        tk.Label(frame, text=update.get("title", ""), bg="#ffffff", anchor="w").pack(fill="x")
        text = update.get("text") or ""
        if len(text) > 140:
            text = text[:139] + "…"
        self.message = tk.Label(frame, text=text, bg="#ffffff", fg="#333333", anchor="w",
                                justify="left", wraplength=self.WIDTH - 30)
        self.message.pack(fill="x", pady=(2, 4))
        row = tk.Frame(frame, bg="#ffffff")
        row.pack(fill="x", side="bottom")
        self.score_buttons: list[tk.Button] = []
        if resolved:
            tk.Label(row, text=tr("tray.toast.rate"), bg="#ffffff").pack(side="left")
            for score in range(1, 6):
                button = tk.Button(row, text=str(score), width=1, padx=4,
                                   command=lambda n=score: self.rate(n))
                button.pack(side="left", padx=1)
                self.score_buttons.append(button)
        tk.Button(row, text="✕", relief="flat", bg="#ffffff",
                  command=self.close).pack(side="right")
        if not resolved:
            self.win.after(TOAST_MS, self.close)

    def rate(self, score: int) -> None:
        """Send the rating through the agent (in a worker thread)."""
        for button in self.score_buttons:
            button.configure(state="disabled")
        self.message.configure(text=self.app.tr("tray.toast.rating_sending"))
        request = {"op": "rate", "ticket_id": self.update["ticket_id"], "score": score}
        self.app.in_background(lambda: local.request(self.app.socket, request), self._rated)

    def _rated(self, answer: dict[str, Any] | None, error: Exception | None) -> None:
        self.app.last_rating = answer if error is None else {"ok": False,
                                                              "error": str(error)}
        if error is not None:
            self.message.configure(text=self.app.tr("tray.toast.rating_failed", error=error))
            for button in self.score_buttons:
                button.configure(state="normal")
            return
        self.message.configure(text=self.app.tr("tray.toast.rating_thanks"))
        self.win.after(3000, self.close)

    def close(self) -> None:
        """Take the toast off the screen."""
        if self.app.toast is self:
            self.app.toast = None
        self.win.destroy()


class TicketDialog:
    """Title, description, attach screenshot, attach system snapshot; Send or Cancel."""

    def __init__(self, app: TrayApp, *, help_now: bool, screenshot: bytes | None) -> None:
        self.app = app
        tr = app.tr
        self.help_now = help_now
        self.screenshot = screenshot
        self.win = tk.Toplevel(app.root)
        self.win.title(tr("tray.menu.help_now" if help_now else "tray.dialog.title"))
        self.win.geometry("460x380+200+120")
        frame = ttk.Frame(self.win, padding=12)
        frame.pack(fill="both", expand=True)
        ttk.Label(frame, text=tr("tray.dialog.what")).pack(anchor="w")
        self.title = ttk.Entry(frame, width=50)
        self.title.pack(fill="x", pady=(0, 8))
        if help_now:
            self.title.insert(0, tr("tray.dialog.help_now_title"))
        ttk.Label(frame, text=tr("tray.dialog.details")).pack(anchor="w")
        self.description = tk.Text(frame, height=8, width=50, wrap="word")
        self.description.pack(fill="both", expand=True, pady=(0, 8))
        self.attach_shot = tk.BooleanVar(self.win, value=screenshot is not None)
        self.attach_snapshot = tk.BooleanVar(self.win, value=True)
        ttk.Checkbutton(frame, text=tr("tray.dialog.screenshot"), variable=self.attach_shot,
                        state="normal" if screenshot is not None else "disabled").pack(anchor="w")
        ttk.Checkbutton(frame, text=tr("tray.dialog.snapshot"),
                        variable=self.attach_snapshot).pack(anchor="w")
        self.result = ttk.Label(frame, text="", wraplength=420)
        self.result.pack(anchor="w", pady=4)
        buttons = ttk.Frame(frame)
        buttons.pack(fill="x")
        ttk.Button(buttons, text=tr("tray.dialog.cancel"), command=self.win.destroy
                   ).pack(side="right")
        self.send_button = ttk.Button(buttons, text=tr("tray.dialog.send"), command=self.send)
        self.send_button.pack(side="right", padx=6)
        self.title.focus_set()

    def send(self) -> None:
        """Hand the ticket to the local agent (in a worker thread)."""
        title = self.title.get().strip()
        if not title:
            self.result.configure(text=self.app.tr("tray.dialog.need_title"))
            return
        body: dict[str, Any] = {
            "op": "ticket", "title": title, "help_now": self.help_now,
            "description": self.description.get("1.0", "end").strip(),
            "snapshot": self.attach_snapshot.get()}
        if self.attach_shot.get() and self.screenshot is not None:
            body["screenshot"] = base64.b64encode(self.screenshot).decode()
        self.send_button.state(["disabled"])
        self.result.configure(text=self.app.tr("tray.dialog.sending"))
        self.app.in_background(lambda: local.request(self.app.socket, body), self._done)

    def _done(self, answer: dict[str, Any] | None, error: Exception | None) -> None:
        if error is not None or answer is None:
            self.result.configure(text=self.app.tr("tray.dialog.failed", error=error))
            self.send_button.state(["!disabled"])
            return
        tr = self.app.tr
        if answer.get("queued"):
            text = tr("tray.dialog.queued")
        elif answer.get("error"):
            text = tr("tray.dialog.refused", error=answer["error"])
        else:
            text = tr("tray.dialog.created", number=answer["number"])
        self.app.last_answer = answer
        self.result.configure(text=text)
        self.app.notify(text)
        self.win.after(2500, self.win.destroy)


class TrayApp:
    """The tray: icon, menu, dialogs, and the status shown from the local agent."""

    def __init__(self, socket_path: Path, *, display_name: str | None = None,
                 screenshot: Callable[[], bytes] | None = None,
                 language: Texts | None = None, bus_address: str | None = None,
                 use_dbus: bool = True) -> None:
        self.socket = socket_path
        self.locale = language or texts()  # the desktop session's locale
        self.tr = self.locale  # the person's language once the agent names one
        tr = self.tr
        self.display_name = display_name
        self.take_screenshot = screenshot
        self.root = tk.Tk(screenName=display_name)
        self.root.withdraw()
        self.root.title("Deskmate")
        self._calls: queue.Queue[Callable[[], None]] = queue.Queue()
        self.status: dict[str, Any] = {}
        self.last_answer: dict[str, Any] | None = None
        self.my_tickets_answer: dict[str, Any] | None = None
        self.notifications: list[str] = []
        self.dialog: TicketDialog | None = None
        self.toast: Toast | None = None
        self.last_rating: dict[str, Any] | None = None
        self.updates: list[dict[str, Any]] = []
        self._watching = threading.Event()
        self._quit = threading.Event()
        self.menu = tk.Menu(self.root, tearoff=False)
        self.actions: dict[str, Callable[[], None]] = {  # by their catalogue key
            "tray.menu.raise": self.raise_ticket,
            "tray.menu.my_tickets": self.my_tickets,
            "tray.menu.help_now": self.get_help_now,
        }
        for key, action in self.actions.items():
            self.menu.add_command(label=tr(key), command=action)
        self.menu.add_separator()
        self.menu.add_command(label=tr("tray.status.connecting"), state="disabled")
        self.status_index = self.menu.index("end")
        self.menu.add_command(label=tr("tray.menu.quit"), command=self.quit)
        # The session bus (from the environment, or ``bus_address``) decides the icon
        # and whether notifications go to the desktop's server.
        self.bus = sni.open_session_bus(bus_address) if use_dbus else None
        self.notifier: notify.Notifier | None = None
        self.notified: dict[int, dict[str, Any]] = {}  # notification id -> ticket update
        if self.bus is not None and notify.server_exists(self.bus):
            self.notifier = notify.Notifier(self.bus, on_action=self._notification_action)
        self.sni: sni.StatusNotifierIcon | None = None
        self.icon: TrayIcon | sni.StatusNotifierIcon
        if self.bus is not None and sni.has_owner(self.bus, sni.WATCHER_NAME):
            self.sni = self.icon = self._status_notifier()
        else:
            self.icon = TrayIcon(display_name, on_click=lambda x, y: self.call(
                lambda: self.popup(x, y)))
        self.root.after(50, self._pump)

    def _status_notifier(self) -> sni.StatusNotifierIcon:
        """The same menu as the Tk one, served over com.canonical.dbusmenu."""
        assert self.bus is not None
        tr = self.tr
        entries = [sni.MenuEntry(tr(key), action) for key, action in self.actions.items()]
        entries.append(sni.MenuEntry(separator=True))
        entries.append(sni.MenuEntry(tr("tray.status.connecting"), enabled=False))
        self.sni_status_item = len(entries)  # dbusmenu ids count from 1
        entries.append(sni.MenuEntry(tr("tray.menu.quit"), self.quit))
        return sni.StatusNotifierIcon(self.bus, sni.DbusMenu(entries), title="Deskmate",
                                      run_action=self.call,
                                      on_activate=lambda x, y: self.call(
                                          lambda: self.popup(x, y)))

    # ---- threads ----
    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` in the Tk thread (safe from any thread)."""
        self._calls.put(fn)

    def _pump(self) -> None:
        while True:
            try:
                fn = self._calls.get_nowait()
            except queue.Empty:
                break
            try:
                fn()
            except Exception:
                log.exception("tray action failed")
        self.root.after(50, self._pump)

    def in_background(self, work: Callable[[], Any],
                      done: Callable[[Any, Exception | None], None]) -> None:
        """Run ``work`` in a worker thread; call ``done(result, error)`` in the Tk thread."""
        def run() -> None:
            try:
                result = work()
            except Exception as exc:
                failure = exc
                self.call(lambda: done(None, failure))
            else:
                self.call(lambda: done(result, None))

        threading.Thread(target=run, daemon=True).start()

    # ---- menu ----
    def popup(self, x: int, y: int) -> None:
        """Show the menu at a point of the screen."""
        self.menu.tk_popup(x, y)

    def raise_ticket(self, *, help_now: bool = False) -> None:
        """Open the ticket dialog, with a screenshot taken before it covers the screen."""
        shot = None
        if self.take_screenshot is not None:
            try:
                shot = self.take_screenshot()
            except Exception as exc:
                log.warning("no screenshot: %s", exc)
        self.dialog = TicketDialog(self, help_now=help_now, screenshot=shot)

    def get_help_now(self) -> None:
        """A ticket flagged for a remote session."""
        self.raise_ticket(help_now=True)

    def my_tickets(self) -> None:
        """List the tickets raised from this tray; each opens in the portal."""
        tr = self.tr

        def show(answer: Any, error: Exception | None) -> None:
            win = tk.Toplevel(self.root)
            win.title(tr("tray.menu.my_tickets"))
            win.geometry("460x300+220+140")
            frame = ttk.Frame(win, padding=12)
            frame.pack(fill="both", expand=True)
            if error is not None:
                ttk.Label(frame, text=str(error)).pack(anchor="w")
                return
            tickets = answer.get("tickets", [])
            self.my_tickets_answer = answer
            if not tickets:
                ttk.Label(frame, text=tr("tray.tickets.none")).pack()
            elif not answer.get("live"):
                ttk.Label(frame, text=tr("tray.tickets.offline")).pack(anchor="w")
            for t in reversed(tickets):
                code = t.get("status", "")
                status = tr(f"tray.status.{code}") if code in STATUSES else code
                label = f"{t.get('number') or tr('tray.tickets.queued')} — {t['title']}"
                if status:
                    label += f" ({status})"
                row = ttk.Frame(frame)
                row.pack(fill="x", pady=2)
                ttk.Label(row, text=label).pack(side="left")
                if t.get("url"):
                    ttk.Button(row, text=tr("tray.tickets.open"),
                               command=lambda u=t["url"]: webbrowser.open(u)).pack(side="right")
            portal = self.status.get("portal")
            if portal:
                ttk.Button(frame, text=tr("tray.tickets.portal"),
                           command=lambda: webbrowser.open(portal)).pack(anchor="w", pady=8)

        self.in_background(lambda: local.request(self.socket, {"op": "my_tickets"}), show)

    # ---- status ----
    def refresh_status(self) -> None:
        """Ask the agent for its connection state and show it."""
        def shown(answer: Any, error: Exception | None) -> None:
            if error is not None:
                self.status = {"connected": False, "error": str(error)}
                text = self.tr("tray.status.not_running")
            else:
                self.status = answer
                self.follow_language(answer.get("language"))
                text = self.tr("tray.status.connected" if answer["connected"]
                               else "tray.status.offline")
            self.menu.entryconfigure(self.status_index, label=text)
            if self.sni is not None:
                self.sni.set_status(self.sni_status_item, text)
            self.icon.set_state("online" if self.status.get("connected") else "offline")
            self.root.after(STATUS_MS, self.refresh_status)

        self.in_background(lambda: local.request(self.socket, {"op": "status"}, timeout=5),
                           shown)

    def follow_language(self, code: Any) -> None:
        """Speak ``code`` (the person's language, from the agent) or, for None or a
        language without a catalogue, the session's locale: relabel the menu; the dialogs
        and notifications opened from now on use it."""
        chosen = available(code) if isinstance(code, str) else None
        wanted = Texts(chosen) if chosen else self.locale
        if wanted.language == self.tr.language:
            return
        self.tr = tr = wanted
        for index, key in enumerate(self.actions):  # the menu starts with the actions
            self.menu.entryconfigure(index, label=tr(key))
        quit_index = self.menu.index("end")
        self.menu.entryconfigure(quit_index, label=tr("tray.menu.quit"))
        if self.sni is not None:
            labels = {index + 1: tr(key) for index, key in enumerate(self.actions)}
            labels[self.sni_status_item + 1] = tr("tray.menu.quit")
            self.sni.set_labels(labels)

    def notify(self, text: str) -> None:
        """Tell the user something: a desktop notification where a server runs."""
        self.notifications.append(text)
        notifier = self.notifier
        if notifier is not None:
            self.in_background(lambda: notifier.notify("Deskmate", text),
                               lambda _id, _error: None)

    # ---- ticket updates ----
    def show_update(self, update: dict[str, Any]) -> None:
        """Show a ticket update as a notification, or a toast (replacing the one on screen)."""
        self.updates.append(update)
        if self.notifier is not None:
            self._notify_update(self.notifier, update)
            self.notifications.append(f"{update['number']}: {update['change']}")
            return
        if self.toast is not None:
            self.toast.close()
        self.toast = Toast(self, update)
        self.notify(f"{update['number']}: {update['change']}")

    def _notify_update(self, notifier: notify.Notifier, update: dict[str, Any]) -> None:
        """Send a ticket update to the desktop; a resolution asks for a rating (1 to 5)."""
        tr = self.tr
        resolved = update["change"] == "resolved"
        heading = tr("tray.toast.resolved" if resolved else "tray.toast.replied",
                     number=update["number"])
        body = "\n".join(t for t in (update.get("title", ""), update.get("text") or "") if t)
        actions = [(f"rate-{n}", str(n)) for n in range(1, 6)] if resolved else []
        if actions and "actions" in notifier.capabilities():
            body += "\n" + tr("tray.toast.rate")

        def sent(notification: Any, error: Exception | None) -> None:
            if error is None and notification:
                self.notified[int(notification)] = update

        self.in_background(lambda: notifier.notify(heading, body, actions=actions), sent)

    def _notification_action(self, notification: int, key: str) -> None:
        """Rate a resolved ticket from its notification's buttons (notifier's thread)."""
        update = self.notified.get(notification)
        if update is None or not key.startswith("rate-"):
            return
        score = int(key.removeprefix("rate-"))
        request = {"op": "rate", "ticket_id": update["ticket_id"], "score": score}

        def rated(answer: Any, error: Exception | None) -> None:
            self.last_rating = answer if error is None else {"ok": False, "error": str(error)}
            self.notify(self.tr("tray.toast.rating_thanks") if error is None
                        else self.tr("tray.toast.rating_failed", error=error))

        self.in_background(lambda: local.request(self.socket, request), rated)

    def _watch(self) -> None:
        """Follow the agent's ticket updates (worker thread); reconnect while running."""
        while not self._quit.is_set():
            try:
                for update in local.watch(self.socket, stop=self._quit,
                                          started=self._watching.set):
                    self.call(lambda u=update: self.show_update(u))
            except local.LocalError as exc:
                log.info("ticket updates unavailable: %s", exc)
            self._watching.clear()
            self._quit.wait(WATCH_RETRY)

    def run(self) -> None:
        """Dock the icon and handle events until Quit."""
        try:
            self.icon.start()
        except sni.BUS_ERRORS as exc:  # the bus refused the item: dock in X11 instead
            log.warning("no StatusNotifierItem (%s); using the XEmbed tray icon", exc)
            self.sni = None
            self.icon = TrayIcon(self.display_name, on_click=lambda x, y: self.call(
                lambda: self.popup(x, y)))
            self.icon.start()
        self.refresh_status()
        if self.sni is not None:
            log.info("tray icon served as a StatusNotifierItem")
        threading.Thread(target=self._watch, name="tray-updates", daemon=True).start()
        self.root.mainloop()

    def quit(self) -> None:
        """Remove the icon and stop."""
        self._quit.set()
        if self.notifier is not None:
            self.notifier.close()
        self.icon.close()  # the StatusNotifierIcon also closes the bus connection
        if self.bus is not None and self.sni is None:
            self.bus.close()
            self.bus.conn.close()
        self.root.quit()
