"""The outbox shared by threads: no lost or doubled reports, and a clean close."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from endpoint_agent.outbox import Outbox, OutboxClosed


def test_threads_put_and_drain_without_losing_a_report(tmp_path: Path) -> None:
    """Four writers and one drainer at once: every report is drained exactly once."""
    box = Outbox(tmp_path / "o.sqlite")
    drained: list[str] = []
    done = threading.Event()

    def writer(n: int) -> None:
        for i in range(100):
            box.put_with_id(f"w{n}-{i}", "health", {"i": i})

    def drainer() -> None:
        while not (done.is_set() and len(box) == 0):
            for report_id, _, _ in box.peek(16):
                box.remove(report_id)
                drained.append(report_id)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    drain = threading.Thread(target=drainer)
    drain.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    drain.join(30)
    assert sorted(drained) == sorted(f"w{n}-{i}" for n in range(4) for i in range(100))
    box.close()


def test_use_after_close_is_a_clean_error(tmp_path: Path) -> None:
    """After close, operations raise OutboxClosed (a sender thread late after a stop)."""
    box = Outbox(tmp_path / "o.sqlite")
    box.put("metrics", {})
    box.close()
    box.close()  # twice is fine
    for op in (lambda: box.peek(1), lambda: box.remove("x"), lambda: len(box),
               lambda: box.put("metrics", {})):
        with pytest.raises(OutboxClosed):
            op()
