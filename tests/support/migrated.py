"""A migrated SQLite database to copy, so each test's database skips the migrations.

Running every migration on a new SQLite file takes a second or more (many seconds on a
busy machine), and nearly every test starts a server on a new database. Each test process
migrates one template file once (the full chain, through the product's own code) and
copies it for each new SQLite database; the server still runs the migrations, which find
nothing to do. tests/server/test_migrations.py and test_unique_names.py migrate empty
databases themselves; PostgreSQL has its own template (tests/conftest.py).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from pathlib import Path

from server.db import migrate
from server.db.database import Database, create_engine

_lock = threading.Lock()
_template: list[Path] = []  # the migrated file, once made


def _migrated() -> Path:
    with _lock:
        if not _template:
            folder = Path(tempfile.mkdtemp(prefix="deskmate-migrated-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            db = Database(create_engine(f"sqlite:///{folder / 'template.db'}"))
            try:
                db.write_sync(migrate.upgrade)
            finally:
                db.close()  # the last connection's close folds the WAL into the file
            _template.append(folder / "template.db")
        return _template[0]


def copy_migrated(path: Path) -> None:
    """Make ``path`` a migrated SQLite database, unless a file is there already."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_migrated(), path)
