"""Comparing article versions (pure)."""

from __future__ import annotations

import difflib


def as_document(title: str, summary: str, body: str) -> list[str]:
    """Return the lines a version is compared by: title, summary, then the body."""
    return [f"Title: {title}", f"Summary: {summary}", "", *body.splitlines()]


def unified_diff(old: list[str], new: list[str], *, old_name: str, new_name: str) -> str:
    """Return a unified diff of two documents (empty when they are equal)."""
    return "\n".join(difflib.unified_diff(old, new, fromfile=old_name, tofile=new_name,
                                          lineterm=""))
