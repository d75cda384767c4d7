"""Read the tables of a Markdown document, so tests can compare the docs with the code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
_SEPARATOR = re.compile(r"^\|\s*:?-{3,}")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


@dataclass
class Table:
    """One pipe table: the headings above it, its header row and its body rows."""

    section: str  # the nearest "## " heading above the table
    heading: str  # the nearest heading of any level above the table
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def column(self, name: str) -> list[str]:
        """Return the cells of the column whose header is ``name``."""
        index = self.header.index(name)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, str]]:
        """Return each row as {header: cell}."""
        return [dict(zip(self.header, row, strict=True)) for row in self.rows]


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [c.strip().replace("\\|", "|") for c in _CELL_SPLIT.split(inner)]


def tables(text: str) -> list[Table]:
    """Return every pipe table of a Markdown text (tables indented in lists included)."""
    found: list[Table] = []
    section = heading = ""
    lines = text.splitlines()
    in_code = False
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            heading = line.lstrip("#").strip()
            if line.startswith("## "):
                section = heading
        elif (not in_code and line.startswith("|") and i + 1 < len(lines)
              and _SEPARATOR.match(lines[i + 1].strip())):
            table = Table(section=section, heading=heading, header=_cells(line))
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                table.rows.append(_cells(lines[i]))
                i += 1
            found.append(table)
            continue
        i += 1
    return found


def doc_tables(name: str) -> list[Table]:
    """Return the tables of ``docs/<name>``."""
    return tables((DOCS / name).read_text(encoding="utf-8"))


def code_spans(cell: str) -> list[str]:
    """Return the texts in backticks of a cell, in order."""
    return re.findall(r"`([^`]+)`", cell)
