"""The tray's dbusmenu model (pure): the layout a host reads and the events it sends."""

from __future__ import annotations

import pytest

from endpoint_agent.tray.sni import DbusMenu, MenuEntry, icon_pixmap


def test_the_layout_lists_entries_and_a_click_returns_the_enabled_entrys_action() -> None:
    """GetLayout's tree carries each entry's label; only an enabled entry's click acts."""
    clicked: list[str] = []
    menu = DbusMenu([MenuEntry("Raise_a ticket", lambda: clicked.append("raise")),
                     MenuEntry(separator=True), MenuEntry("Connecting…", enabled=False)])
    revision, (root, props, children) = menu.layout(0, -1, [])
    assert (revision, root, props) == (1, 0, {"children-display": ("s", "submenu")})
    assert [c[1][1] for c in children] == [
        {"label": ("s", "Raise__a ticket"), "enabled": ("b", True), "visible": ("b", True)},
        {"type": ("s", "separator")},
        {"label": ("s", "Connecting…"), "enabled": ("b", False), "visible": ("b", True)}]
    action = menu.event(1, "clicked")
    assert action is not None
    action()
    assert clicked == ["raise"]
    assert menu.event(1, "hovered") is None and menu.event(3, "clicked") is None
    assert menu.set_label(3, "Connected to IT") and menu.revision == 2
    with pytest.raises(ValueError, match="no menu item 9"):
        menu.event(9, "clicked")


def test_the_icon_is_argb_of_the_states_colour() -> None:
    """The pixmap has four bytes a pixel, opaque in the bubble and clear in the corner."""
    data = icon_pixmap("online", 22)
    assert len(data) == 22 * 22 * 4
    assert data[:4] == bytes(4)
    centre = (11 * 22 + 11) * 4
    assert data[centre:centre + 4] == bytes((255, 0x2E, 0x9E, 0x5B))
