"""Jittered exponential backoff for reconnecting (pure; randomness injectable)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays of ``initial * factor**attempt`` capped at ``maximum``, with full jitter.

    Full jitter (a uniform draw between 0 and the cap of the attempt) spreads the
    reconnects of thousands of agents after a server restart instead of synchronising
    them (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015).
    """

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 60.0
    minimum: float = 0.1
    rand: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int) -> float:
        """Return the wait before reconnect attempt number ``attempt`` (0 first)."""
        cap = min(self.maximum, self.initial * self.factor ** min(attempt, 32))
        return max(self.minimum, cap * self.rand())
