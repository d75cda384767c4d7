"""The tray over D-Bus: a StatusNotifierItem whose menu is served as com.canonical.dbusmenu.

GNOME (with the AppIndicator extension Ubuntu ships), KDE Plasma, XFCE, Cinnamon, MATE,
LXQt and wlroots bars show StatusNotifierItem icons, and GNOME shows no XEmbed icon at
all. The item registers with ``org.kde.StatusNotifierWatcher`` on the session bus; the
host then reads its properties and menu over D-Bus and sends ``Event(id, "clicked")``
when the user picks an entry. Where no watcher runs, the tray falls back to the XEmbed
icon (:mod:`endpoint_agent.tray.icon`).

:class:`DbusMenu` is the pure menu model (layout, properties, events); the
:class:`StatusNotifierIcon` answers the bus in one thread of its own (jeepney's
threaded router). Menu actions are callables the tray hands over; it runs them in its
Tk thread.

Specs: https://www.freedesktop.org/wiki/Specifications/StatusNotifierItem/ and
libdbusmenu's ``com.canonical.dbusmenu.xml`` (interface version 3).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jeepney import (
    DBusAddress,
    DBusErrorResponse,
    HeaderFields,
    MatchRule,
    Message,
    MessageType,
    new_error,
    new_method_call,
    new_method_return,
    new_signal,
)
from jeepney.bus_messages import message_bus
from jeepney.io.threading import DBusRouter, Proxy, open_dbus_connection

log = logging.getLogger("deskmate.agent.tray")

WATCHER_NAME = "org.kde.StatusNotifierWatcher"
WATCHER = DBusAddress("/StatusNotifierWatcher", bus_name=WATCHER_NAME,
                      interface=WATCHER_NAME)
ITEM_IFACE = "org.kde.StatusNotifierItem"
ITEM_PATH = "/StatusNotifierItem"
MENU_IFACE = "com.canonical.dbusmenu"
MENU_PATH = "/MenuBar"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
INTROSPECT_IFACE = "org.freedesktop.DBus.Introspectable"
PEER_IFACE = "org.freedesktop.DBus.Peer"
CALL_TIMEOUT = 2.0
ICON_SIZES = (22, 32)
COLOURS = {"online": (0x2E, 0x9E, 0x5B), "offline": (0x8A, 0x94, 0xA6),
           "attention": (0xD9, 0x82, 0x2B)}

Variant = tuple[str, Any]
BUS_ERRORS = (DBusErrorResponse, TimeoutError, OSError)  # what a bus call may raise


def open_session_bus(address: str | None = None) -> DBusRouter | None:
    """Connect to the session bus (``address`` or the environment's); None if there is none."""
    where = address or os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if not where:
        return None
    try:
        return DBusRouter(open_dbus_connection(bus=where))
    except (OSError, ValueError, StopIteration) as exc:
        log.info("no session bus at %s: %s", where, exc)
        return None


def has_owner(router: DBusRouter, name: str) -> bool:
    """Tell whether some connection owns ``name`` on the bus."""
    try:
        return bool(Proxy(message_bus, router, timeout=CALL_TIMEOUT).NameHasOwner(name)[0])
    except (DBusErrorResponse, TimeoutError, OSError) as exc:
        log.info("cannot ask the bus about %s: %s", name, exc)
        return False


# --- the menu (pure) -------------------------------------------------------------------

@dataclass
class MenuEntry:
    """One entry of the menu: a label and its action, or a separator."""

    label: str = ""
    action: Callable[[], None] | None = None
    enabled: bool = True
    separator: bool = False


class DbusMenu:
    """The menu as com.canonical.dbusmenu describes it: item 0 is the root, then entries."""

    def __init__(self, entries: list[MenuEntry]) -> None:
        self.entries = entries
        self.revision = 1

    def properties(self, item: int, names: list[str] | None = None) -> dict[str, Variant]:
        """Return the dbusmenu properties of an item (all, or those in ``names``)."""
        if item == 0:
            props: dict[str, Variant] = {"children-display": ("s", "submenu")}
        else:
            entry = self.entries[item - 1]
            if entry.separator:
                props = {"type": ("s", "separator")}
            else:
                props = {"label": ("s", entry.label.replace("_", "__")),  # _ is a mnemonic
                         "enabled": ("b", entry.enabled), "visible": ("b", True)}
        return {k: v for k, v in props.items() if not names or k in names}

    def layout(self, parent: int, depth: int, names: list[str]) -> tuple[int, Any]:
        """Return ``GetLayout``'s answer: the revision and the (id, props, children) tree."""
        if parent != 0:  # entries have no submenus
            self.item(parent)
            return self.revision, (parent, self.properties(parent, names), [])
        children = [] if depth == 0 else [
            ("(ia{sv}av)", (i, self.properties(i, names), []))
            for i in range(1, len(self.entries) + 1)]
        return self.revision, (0, self.properties(0, names), children)

    def item(self, item: int) -> MenuEntry:
        """Return the entry with this id; ValueError for an unknown one."""
        if not 1 <= item <= len(self.entries):
            raise ValueError(f"no menu item {item!r}")
        return self.entries[item - 1]

    def event(self, item: int, event_id: str) -> Callable[[], None] | None:
        """Return the action a ``clicked`` event on ``item`` asks for (None: nothing to do)."""
        entry = self.item(item)
        if event_id != "clicked" or not entry.enabled:
            return None
        return entry.action

    def set_label(self, item: int, label: str) -> bool:
        """Change an entry's label; return whether it changed."""
        entry = self.item(item)
        if entry.label == label:
            return False
        entry.label = label
        self.revision += 1
        return True


def icon_pixmap(state: str, size: int) -> bytes:
    """Draw the tray's speech bubble as ARGB32 in network byte order (as SNI wants)."""
    r, g, b = COLOURS.get(state, COLOURS["offline"])
    side = size - 4
    cx, cy = size / 2, 2 + side * 2 / 5
    rx, ry = side / 2, side * 2 / 5
    tail_x0, tail_x1 = 2 + side // 5, 2 + side // 5 + side // 4
    out = bytearray()
    for y in range(size):
        for x in range(size):
            inside = ((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1
            inside = inside or (tail_x0 <= x < tail_x1 and cy <= y < 2 + side)
            out += bytes((255, r, g, b)) if inside else bytes(4)
    return bytes(out)


# --- the item on the bus ---------------------------------------------------------------

INTROSPECTION = {
    ITEM_PATH: f"""<node><interface name="{ITEM_IFACE}">
<method name="ContextMenu"><arg name="x" type="i"/><arg name="y" type="i"/></method>
<method name="Activate"><arg name="x" type="i"/><arg name="y" type="i"/></method>
<method name="SecondaryActivate"><arg name="x" type="i"/><arg name="y" type="i"/></method>
<method name="Scroll"><arg name="delta" type="i"/><arg name="orientation" type="s"/></method>
<signal name="NewIcon"/><signal name="NewToolTip"/><signal name="NewTitle"/>
<signal name="NewStatus"><arg name="status" type="s"/></signal>
<property name="Category" type="s" access="read"/><property name="Id" type="s" access="read"/>
<property name="Title" type="s" access="read"/><property name="Status" type="s" access="read"/>
<property name="WindowId" type="i" access="read"/>
<property name="IconName" type="s" access="read"/>
<property name="IconPixmap" type="a(iiay)" access="read"/>
<property name="ToolTip" type="(sa(iiay)ss)" access="read"/>
<property name="ItemIsMenu" type="b" access="read"/>
<property name="Menu" type="o" access="read"/>
</interface></node>""",
    MENU_PATH: f"""<node><interface name="{MENU_IFACE}">
<method name="GetLayout"><arg type="i" direction="in"/><arg type="i" direction="in"/>
<arg type="as" direction="in"/><arg type="u" direction="out"/>
<arg type="(ia{{sv}}av)" direction="out"/></method>
<method name="GetGroupProperties"><arg type="ai" direction="in"/><arg type="as" direction="in"/>
<arg type="a(ia{{sv}})" direction="out"/></method>
<method name="GetProperty"><arg type="i" direction="in"/><arg type="s" direction="in"/>
<arg type="v" direction="out"/></method>
<method name="Event"><arg type="i" direction="in"/><arg type="s" direction="in"/>
<arg type="v" direction="in"/><arg type="u" direction="in"/></method>
<method name="EventGroup"><arg type="a(isvu)" direction="in"/><arg type="ai" direction="out"/>
</method>
<method name="AboutToShow"><arg type="i" direction="in"/><arg type="b" direction="out"/></method>
<method name="AboutToShowGroup"><arg type="ai" direction="in"/><arg type="ai" direction="out"/>
<arg type="ai" direction="out"/></method>
<signal name="ItemsPropertiesUpdated"><arg type="a(ia{{sv}})"/><arg type="a(ias)"/></signal>
<signal name="LayoutUpdated"><arg type="u"/><arg type="i"/></signal>
<property name="Version" type="u" access="read"/>
<property name="TextDirection" type="s" access="read"/>
<property name="Status" type="s" access="read"/>
<property name="IconThemePath" type="as" access="read"/>
</interface></node>""",
}


class StatusNotifierIcon:
    """The tray icon as a StatusNotifierItem; ``run_action`` runs menu actions (Tk thread)."""

    def __init__(self, router: DBusRouter, menu: DbusMenu, *, title: str,
                 run_action: Callable[[Callable[[], None]], None],
                 on_activate: Callable[[int, int], None] | None = None) -> None:
        self.router = router
        self.menu = menu
        self.title = title
        self.tooltip = ""
        self.run_action = run_action
        self.on_activate = on_activate
        self.state = "offline"
        self.name = f"org.kde.StatusNotifierItem-{os.getpid()}-1"
        self.registered = threading.Event()  # the watcher took the item
        self.events: list[tuple[int, str]] = []  # menu events received, for tests/support
        self._calls: queue.Queue[Message] = queue.Queue(maxsize=256)
        self._stop = threading.Event()
        self._filters: list[Any] = []
        self._thread = threading.Thread(target=self._serve, name="tray-sni", daemon=True)

    # --- lifecycle ---
    def start(self) -> None:
        """Take a bus name, start answering, and register with the watcher."""
        self._filters.append(self.router.filter(MatchRule(type="method_call"),
                                                queue=self._calls))
        # A watcher that starts (or restarts, with a panel) later gets the item again.
        owner_changed = MatchRule(type="signal", sender="org.freedesktop.DBus",
                                  interface="org.freedesktop.DBus", member="NameOwnerChanged",
                                  path="/org/freedesktop/DBus")
        owner_changed.add_arg_condition(0, WATCHER_NAME)
        self._filters.append(self.router.filter(owner_changed, queue=self._calls))
        bus = Proxy(message_bus, self.router, timeout=CALL_TIMEOUT)
        bus.AddMatch(owner_changed)
        bus.RequestName(self.name, 4)  # DBUS_NAME_FLAG_DO_NOT_QUEUE
        self._thread.start()
        self._register()

    def _register(self) -> None:
        def call() -> None:
            try:
                reply = self.router.send_and_get_reply(new_method_call(
                    WATCHER, "RegisterStatusNotifierItem", "s", (self.name,)),
                    timeout=CALL_TIMEOUT * 2)
            except (TimeoutError, OSError) as exc:
                log.warning("the StatusNotifierWatcher did not answer: %s", exc)
                return
            if reply.header.message_type is MessageType.error:
                log.warning("the StatusNotifierWatcher refused the tray icon: %s", reply.body)
                return
            log.info("tray icon registered with the StatusNotifierWatcher as %s", self.name)
            self.registered.set()

        # Off the serving thread: the watcher reads our properties before it answers.
        threading.Thread(target=call, name="tray-sni-register", daemon=True).start()

    def close(self) -> None:
        """Leave the bus (the host removes the icon when the name goes)."""
        self._stop.set()
        for handle in self._filters:
            handle.close()
        try:
            Proxy(message_bus, self.router, timeout=CALL_TIMEOUT).ReleaseName(self.name)
        except (DBusErrorResponse, TimeoutError, OSError):
            pass
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self.router.close()
        self.router.conn.close()

    # --- what the tray changes ---
    def set_state(self, state: str) -> None:
        """Show the connection state (online, offline, attention) in the icon's colour."""
        if state != self.state:
            self.state = state
            self._emit(ITEM_PATH, ITEM_IFACE, "NewIcon")
            self._emit(ITEM_PATH, ITEM_IFACE, "NewStatus", "s",
                       ("NeedsAttention" if state == "attention" else "Active",))

    def set_status(self, item: int, text: str) -> None:
        """Show the agent's status in a menu entry and in the tooltip."""
        self.tooltip = text
        if self.menu.set_label(item, text):
            self._emit(MENU_PATH, MENU_IFACE, "ItemsPropertiesUpdated", "a(ia{sv})a(ias)",
                       ([(item, self.menu.properties(item, ["label"]))], []))
            self._emit(MENU_PATH, MENU_IFACE, "LayoutUpdated", "ui", (self.menu.revision, 0))
        self._emit(ITEM_PATH, ITEM_IFACE, "NewToolTip")

    def set_labels(self, labels: dict[int, str]) -> None:
        """Change the labels of menu entries (by id), e.g. when the language changes."""
        changed = [item for item, label in labels.items() if self.menu.set_label(item, label)]
        if changed:
            self._emit(MENU_PATH, MENU_IFACE, "ItemsPropertiesUpdated", "a(ia{sv})a(ias)",
                       ([(i, self.menu.properties(i, ["label"])) for i in changed], []))
            self._emit(MENU_PATH, MENU_IFACE, "LayoutUpdated", "ui", (self.menu.revision, 0))

    def _emit(self, path: str, interface: str, member: str, signature: str | None = None,
              body: tuple[Any, ...] = ()) -> None:
        try:
            self.router.send(new_signal(DBusAddress(path, interface=interface), member,
                                        signature, body))
        except OSError as exc:
            log.debug("cannot send %s: %s", member, exc)

    # --- answering the bus ---
    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self._calls.get(timeout=0.5)
            except queue.Empty:
                continue
            if msg.header.message_type is MessageType.signal:  # NameOwnerChanged
                if msg.body[2]:
                    log.info("a StatusNotifierWatcher appeared; registering the tray icon")
                    self._register()
                continue
            try:
                reply = self.answer(msg)
            except ValueError as exc:
                reply = new_error(msg, "org.freedesktop.DBus.Error.InvalidArgs", "s",
                                  (str(exc),))
            except Exception:  # the host must get an answer, and the tray must live on
                log.exception("tray D-Bus call failed")
                reply = new_error(msg, "org.freedesktop.DBus.Error.Failed", "s",
                                  ("internal error",))
            try:
                self.router.send(reply)
            except OSError as exc:
                log.info("cannot answer the tray host: %s", exc)

    def answer(self, msg: Message) -> Message:
        """Return the reply to one method call on the item or its menu."""
        fields = msg.header.fields
        path, iface = fields.get(HeaderFields.path), fields.get(HeaderFields.interface)
        member = fields.get(HeaderFields.member)
        log.debug("tray host calls %s %s.%s", path, iface, member)
        if path not in INTROSPECTION and not (iface == PEER_IFACE):
            return new_error(msg, "org.freedesktop.DBus.Error.UnknownObject", "s",
                             (f"no object at {path!r}",))
        if iface == INTROSPECT_IFACE and member == "Introspect":
            return new_method_return(msg, "s", (INTROSPECTION[str(path)],))
        if iface == PEER_IFACE:
            return new_method_return(msg)
        if iface == PROPS_IFACE:
            return self._properties(msg, str(path), str(member))
        if path == ITEM_PATH and iface in (ITEM_IFACE, None):
            if member in ("Activate", "SecondaryActivate") and self.on_activate is not None:
                x, y = msg.body
                self.on_activate(int(x), int(y))
            if member in ("Activate", "SecondaryActivate", "ContextMenu", "Scroll"):
                return new_method_return(msg)
        if path == MENU_PATH and iface in (MENU_IFACE, None):
            return self._menu_call(msg, str(member))
        return new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s",
                         (f"no method {iface}.{member}",))

    def item_properties(self) -> dict[str, Variant]:
        """Return the StatusNotifierItem's properties."""
        pixmaps = [(s, s, icon_pixmap(self.state, s)) for s in ICON_SIZES]
        return {
            "Category": ("s", "ApplicationStatus"), "Id": ("s", "deskmate"),
            "Title": ("s", self.title),
            "Status": ("s", "NeedsAttention" if self.state == "attention" else "Active"),
            "WindowId": ("i", 0), "IconName": ("s", ""), "IconPixmap": ("a(iiay)", pixmaps),
            "OverlayIconName": ("s", ""), "OverlayIconPixmap": ("a(iiay)", []),
            "AttentionIconName": ("s", ""), "AttentionIconPixmap": ("a(iiay)", []),
            "AttentionMovieName": ("s", ""), "IconThemePath": ("s", ""),
            "ToolTip": ("(sa(iiay)ss)", ("", [], self.title, self.tooltip)),
            "ItemIsMenu": ("b", True), "Menu": ("o", MENU_PATH)}

    def menu_properties(self) -> dict[str, Variant]:
        """Return the dbusmenu object's own properties."""
        return {"Version": ("u", 3), "TextDirection": ("s", "ltr"), "Status": ("s", "normal"),
                "IconThemePath": ("as", [])}

    def _properties(self, msg: Message, path: str, member: str) -> Message:
        props = self.item_properties() if path == ITEM_PATH else self.menu_properties()
        if member == "GetAll":
            return new_method_return(msg, "a{sv}", (props,))
        if member == "Get":
            _iface, name = msg.body
            if name not in props:
                return new_error(msg, "org.freedesktop.DBus.Error.UnknownProperty", "s",
                                 (f"no property {name!r}",))
            return new_method_return(msg, "v", (props[name],))
        return new_error(msg, "org.freedesktop.DBus.Error.PropertyReadOnly", "s",
                         ("read-only",))

    def _menu_call(self, msg: Message, member: str) -> Message:
        menu = self.menu
        if member == "GetLayout":
            parent, depth, names = msg.body
            return new_method_return(msg, "u(ia{sv}av)", menu.layout(parent, depth, names))
        if member == "GetGroupProperties":
            ids, names = msg.body
            ids = ids or list(range(0, len(menu.entries) + 1))
            return new_method_return(msg, "a(ia{sv})", (
                [(i, menu.properties(i, names)) for i in ids
                 if i == 0 or 1 <= i <= len(menu.entries)],))
        if member == "GetProperty":
            item, name = msg.body
            if item != 0:
                menu.item(item)  # ValueError for an unknown item
            props = menu.properties(item)
            if name not in props:
                raise ValueError(f"item {item} has no property {name!r}")
            return new_method_return(msg, "v", (props[name],))
        if member == "Event":
            item, event_id, _data, _timestamp = msg.body
            self._event(item, event_id)
            return new_method_return(msg)
        if member == "EventGroup":
            missing = []
            for item, event_id, _data, _timestamp in msg.body[0]:
                try:
                    self._event(item, event_id)
                except ValueError:
                    missing.append(item)
            return new_method_return(msg, "ai", (missing,))
        if member == "AboutToShow":
            if msg.body[0] != 0:
                menu.item(msg.body[0])
            return new_method_return(msg, "b", (False,))
        if member == "AboutToShowGroup":
            return new_method_return(msg, "aiai", ([], []))
        return new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s",
                         (f"no method {MENU_IFACE}.{member}",))

    def _event(self, item: int, event_id: str) -> None:
        action = self.menu.event(item, event_id) if item else None
        self.events.append((item, event_id))
        if action is not None:
            log.info("tray menu item %d %s", item, event_id)
            self.run_action(action)
