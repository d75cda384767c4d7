"""Wait for a condition with a deadline, polling (no fixed sleeps in tests)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def eventually(predicate: Callable[[], bool | Awaitable[bool]], *,
                     within: float = 10.0, every: float = 0.02) -> None:
    """Return once ``predicate()`` is true; fail after ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            while True:
                result = predicate()
                if inspect.isawaitable(result):
                    result = await result
                if result:
                    return
                await asyncio.sleep(every)
    except TimeoutError:
        raise AssertionError(f"condition not reached within {within} s") from None
