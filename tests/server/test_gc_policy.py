"""The garbage-collector policy: frozen objects, and the periodic full collection."""

from __future__ import annotations

import gc
import weakref

from server.gc_policy import GcPolicy


class Node:
    """A tracked object that can hold a reference to itself."""

    other: object = None


def test_frozen_cycles_wait_for_the_full_pass_and_plain_garbage_does_not() -> None:
    """Freezing keeps cyclic garbage until the full pass; refcounting frees the rest."""
    now = [0.0]
    policy = GcPolicy(freeze_interval=60, full_interval=3600, clock=lambda: now[0])
    try:
        policy.start()
        cyclic, plain = Node(), Node()
        cyclic.other = cyclic
        cyclic_ref, plain_ref = weakref.ref(cyclic), weakref.ref(plain)
        now[0] = 60.0
        assert policy.tick() == "freeze"
        assert gc.get_freeze_count() > 0
        del cyclic, plain
        assert plain_ref() is None  # reference counting works on frozen objects
        gc.collect()
        assert cyclic_ref() is not None  # a frozen cycle is not scanned
        now[0] = 3600.0
        assert policy.tick() == "full"
        assert cyclic_ref() is None
        assert gc.get_freeze_count() > 0  # what lives is frozen again
        now[0] = 3660.0
        assert policy.tick() == "freeze"  # the next full pass is an hour after this one
    finally:
        gc.unfreeze()
