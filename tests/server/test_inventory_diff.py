"""Inventory history entries describe what changed (pure function)."""

from __future__ import annotations

from server.devices.inventory_diff import diff_section


def test_software_added_removed_and_upgraded() -> None:
    """Lists are matched by their key fields: additions, removals and version changes."""
    before = [{"name": "a", "version": "1", "arch": "amd64"},
              {"name": "b", "version": "1", "arch": "amd64"}]
    after = [{"name": "a", "version": "2", "arch": "amd64"},
             {"name": "c", "version": "1", "arch": "amd64"}]
    change = diff_section("softwares", before, after)
    assert change["added"] == [{"name": "c", "arch": "amd64", "version": "1"}]
    assert change["removed"] == [{"name": "b", "arch": "amd64", "version": "1"}]
    assert change["changed"][0]["fields"] == {"version": {"before": "1", "after": "2"}}
    assert change["counts"] == {"added": 1, "removed": 1, "changed": 1}


def test_mapping_sections_list_changed_fields() -> None:
    """For a mapping section only the fields that differ are listed."""
    change = diff_section("operatingsystem", {"name": "Debian", "version": "12"},
                          {"name": "Debian", "version": "13", "arch": "x86_64"})
    assert change["fields"] == {"arch": {"before": None, "after": "x86_64"},
                                "version": {"before": "12", "after": "13"}}


def test_new_and_vanished_sections() -> None:
    """A section seen for the first time, or no longer sent, is said so."""
    assert diff_section("bios", None, {"ssn": "1"}) == {"kind": "added"}
    assert diff_section("bios", {"ssn": "1"}, None) == {"kind": "removed"}
