"""Desktop notifications over ``org.freedesktop.Notifications`` (where a server runs).

Every desktop's notification server (GNOME Shell, Plasma, xfce4-notifyd, dunst, mako...)
shows them in its own place and style, which the user knows; without one the tray shows
its own toast (:class:`endpoint_agent.tray.app.Toast`). Buttons are notification actions
where the server offers the ``actions`` capability; ``on_action(id, key)`` runs in this
module's thread when the user presses one.

Spec: https://specifications.freedesktop.org/notification-spec/latest/
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence

from jeepney import (
    DBusAddress,
    DBusErrorResponse,
    HeaderFields,
    MatchRule,
    Message,
    new_method_call,
)
from jeepney.bus_messages import message_bus
from jeepney.io.threading import DBusRouter, Proxy

from endpoint_agent.tray.sni import CALL_TIMEOUT, has_owner

log = logging.getLogger("deskmate.agent.tray")

NAME = "org.freedesktop.Notifications"
SERVER = DBusAddress("/org/freedesktop/Notifications", bus_name=NAME, interface=NAME)


def server_exists(router: DBusRouter) -> bool:
    """Tell whether a notification server runs (or the bus can start one)."""
    if has_owner(router, NAME):
        return True
    try:
        names = Proxy(message_bus, router, timeout=CALL_TIMEOUT).ListActivatableNames()[0]
    except (DBusErrorResponse, TimeoutError, OSError):
        return False
    return NAME in names


class Notifier:
    """Sends notifications; reports the actions the user picks."""

    def __init__(self, router: DBusRouter, *, app_name: str = "Deskmate",
                 on_action: Callable[[int, str], None] | None = None) -> None:
        self.router = router
        self.app_name = app_name
        self.on_action = on_action
        self.sent: list[int] = []  # ids the server gave, for tests and support
        self._capabilities: list[str] | None = None
        self._server: str | None = None  # the server's unique name: only it sends actions
        self._signals: queue.Queue[Message] = queue.Queue(maxsize=64)
        self._stop = threading.Event()
        rule = MatchRule(type="signal", interface=NAME, member="ActionInvoked",
                         path="/org/freedesktop/Notifications")
        self._filter = router.filter(rule, queue=self._signals)
        try:
            Proxy(message_bus, router, timeout=CALL_TIMEOUT).AddMatch(rule)
        except (DBusErrorResponse, TimeoutError, OSError) as exc:
            log.info("notification actions unavailable: %s", exc)
        self._thread = threading.Thread(target=self._listen, name="tray-notify", daemon=True)
        self._thread.start()

    def capabilities(self) -> list[str]:
        """Return what the server supports (``actions``, ``body``...), asked once."""
        if self._capabilities is None:
            reply = self._call("GetCapabilities")
            self._capabilities = list(reply[0]) if reply is not None else []
        return self._capabilities

    def notify(self, summary: str, body: str = "", *,
               actions: Sequence[tuple[str, str]] = (), timeout_ms: int = -1) -> int:
        """Show a notification (``actions``: key and label); return its id, 0 on failure."""
        flat = [part for key, label in actions for part in (key, label)]
        if flat and "actions" not in self.capabilities():
            flat = []
        reply = self._call("Notify", "susssasa{sv}i", (
            self.app_name, 0, "", summary, body, flat, {"urgency": ("y", 1)}, timeout_ms))
        if reply is None:
            return 0
        if self._server is None:
            try:
                self._server = str(Proxy(message_bus, self.router, timeout=CALL_TIMEOUT)
                                   .GetNameOwner(NAME)[0])
            except (DBusErrorResponse, TimeoutError, OSError) as exc:
                log.info("cannot tell the notification server's name: %s", exc)
        self.sent.append(int(reply[0]))
        return int(reply[0])

    def _call(self, method: str, signature: str | None = None,
              body: tuple[object, ...] = ()) -> tuple[object, ...] | None:
        try:
            reply = self.router.send_and_get_reply(
                new_method_call(SERVER, method, signature, body), timeout=CALL_TIMEOUT * 2)
        except (TimeoutError, OSError) as exc:
            log.warning("the notification server did not answer %s: %s", method, exc)
            return None
        if reply.header.message_type.name == "error":
            log.warning("the notification server refused %s: %s", method, reply.body)
            return None
        return tuple(reply.body)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self._signals.get(timeout=0.5)
            except queue.Empty:
                continue
            notification, key = msg.body
            if msg.header.fields.get(HeaderFields.sender) != self._server:
                continue  # another client on the bus cannot press our buttons
            if notification in self.sent and self.on_action is not None:
                try:
                    self.on_action(int(notification), str(key))
                except Exception:
                    log.exception("notification action failed")

    def close(self) -> None:
        """Stop listening for actions."""
        self._stop.set()
        self._filter.close()
