"""docs/architecture.md's layout block against the tree: folders and Python modules."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("server", "shared", "endpoint_agent")  # every module of these is named
DESCRIPTION_COLUMN = 17  # text further right than this continues the entry above
ENTRY = re.compile(r"^(?P<indent> *)(?P<name>[\w.-]+/|[\w.-]+\.\w+)(?:\s+(?P<text>.*))?$")
IGNORED_DIRS = {"__pycache__", ".venv", "var", "build", "test-artifacts"}
# Folders whose files the layout names as a group (one migration per revision).
GROUPED = {PurePosixPath("server/migrations/versions")}


@dataclass
class Entry:
    """One line of the layout block (with its continuation lines)."""

    path: PurePosixPath
    is_dir: bool
    text: str = ""


def layout() -> list[Entry]:
    """Return the entries of the first code block under "## Layout", with full paths."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Layout", 1)[1]
    block = section.split("```", 2)[1].split("\n", 1)[1]
    entries: list[Entry] = []
    stack: list[tuple[int, Entry]] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        match = ENTRY.match(line)
        if indent >= DESCRIPTION_COLUMN or match is None:
            assert stack, f"text before the first entry: {line!r}"
            stack[-1][1].text += " " + line.strip()
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        name = match["name"]
        parent = stack[-1][1].path if stack else PurePosixPath()
        entry = Entry(path=parent / name.rstrip("/"), is_dir=name.endswith("/"),
                      text=match["text"] or "")
        entries.append(entry)
        stack.append((indent, entry))
    return entries


def tracked_files() -> list[PurePosixPath]:
    """Return the files of the checkout: git's list, or the file system without caches."""
    git = shutil.which("git")
    if git is not None:
        done = subprocess.run([git, "ls-files", "--cached", "--others", "--exclude-standard"],
                              cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return [PurePosixPath(p) for p in done.stdout.splitlines()
                    if (ROOT / p).exists()]
    return [PurePosixPath(p.relative_to(ROOT).as_posix()) for p in ROOT.rglob("*")
            if p.is_file() and not IGNORED_DIRS & set(p.relative_to(ROOT).parts)
            and not any(part.startswith(".") for part in p.relative_to(ROOT).parts)]


def tree_dirs(depth: int) -> set[PurePosixPath]:
    """Return the folders holding tracked files, down to ``depth`` levels."""
    dirs: set[PurePosixPath] = set()
    for file in tracked_files():
        for n in range(1, min(depth, len(file.parts) - 1) + 1):
            dirs.add(PurePosixPath(*file.parts[:n]))
    return {d for d in dirs if not IGNORED_DIRS & set(d.parts)
            and not any(part.startswith(".") for part in d.parts)}  # .ci and the like


def test_every_listed_folder_and_file_exists() -> None:
    """Nothing in the layout is gone from the tree."""
    missing = [str(e.path) for e in layout()
               if not (ROOT / e.path).is_dir() if e.is_dir] + \
              [str(e.path) for e in layout() if not e.is_dir and not (ROOT / e.path).is_file()]
    assert missing == []


def test_every_folder_of_the_tree_is_listed() -> None:
    """Each top-level folder and each folder one level below it appears in the layout."""
    listed = {e.path for e in layout() if e.is_dir}
    missing = sorted(str(d) for d in tree_dirs(2) if d not in listed)
    assert missing == []


def _mentioned(text: str) -> set[str]:
    """Return the module names a package's description mentions (``name`` or ``name.py``)."""
    return {m.removesuffix(".py") for m in re.findall(r"[A-Za-z_][\w]*(?:\.py)?", text)}


def test_every_module_of_the_python_packages_is_named() -> None:
    """Each module of server/, shared/ and endpoint_agent/ is an entry or named by its folder."""
    entries = {e.path: e for e in layout()}
    unnamed = []
    for file in tracked_files():
        if file.parts[0] not in PACKAGES or file.suffix != ".py" or file.name == "__init__.py":
            continue
        if file in entries or file.parent in GROUPED:
            continue
        folder = entries.get(file.parent)
        if folder is None or file.stem not in _mentioned(folder.text):
            unnamed.append(str(file))
    assert unnamed == []


def test_modules_named_in_a_description_exist() -> None:
    """A ``name.py`` in a folder's description is a file of that folder."""
    wrong = [f"{e.path}: {name}" for e in layout() if e.is_dir
             for name in re.findall(r"\b([\w]+\.py)\b", e.text)
             if not (ROOT / e.path / name).is_file()]
    assert wrong == []


def test_the_document_describes_the_tree_as_it_is() -> None:
    """No part of the architecture page calls a built part unbuilt."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    assert "not built yet" not in text
    assert "protocol messages next" not in text
