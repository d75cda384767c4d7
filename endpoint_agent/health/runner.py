"""Run the configured checks on a timer and queue what changed in the outbox.

Every result goes through the outbox (a durable queue) and is sent from there, so
results taken while the server cannot be reached are delivered, once, when it can. The
last configuration is kept in the state directory, so checks go on after a restart
without a server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from endpoint_agent.health import probes
from endpoint_agent.health.evaluate import Evaluator
from endpoint_agent.outbox import Outbox
from endpoint_agent.state import write_private
from shared.protocol import HealthCheck, HealthConfig, HealthResult

log = logging.getLogger("deskmate.agent.health")

Reader = Callable[..., tuple[float, str]]
_config_decoder = msgspec.json.Decoder(HealthConfig)


def effective(check: HealthCheck) -> HealthCheck:
    """Return the check as evaluated: up/down checks are critical when down, at once."""
    if check.kind in ("service", "process"):
        return msgspec.structs.replace(check, warning=None, critical=probes.DOWN / 2,
                                       window=0, hysteresis=0)
    return check


class HealthRunner:
    """The device's checks, their evaluators, and the loop that samples them."""

    def __init__(self, config_file: Path, outbox: Outbox, *,
                 read: Reader = probes.read, clock: Callable[[], float] = time.time,
                 interval: float | None = None) -> None:
        self.config_file = config_file
        self.outbox = outbox
        self.read = read
        self.clock = clock
        self.interval_override = interval
        self.config: HealthConfig | None = None
        self.evaluators: dict[int, Evaluator] = {}
        self.queued = asyncio.Event()  # set when results were put in the outbox
        self._changed = asyncio.Event()

    def load(self) -> None:
        """Read the configuration kept from the last run, if any (blocking)."""
        try:
            raw = self.config_file.read_bytes()
        except FileNotFoundError:
            return
        try:
            self._apply(_config_decoder.decode(raw))
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("ignoring an unreadable %s: %s", self.config_file, exc)

    def _apply(self, config: HealthConfig) -> None:
        old = self.evaluators
        self.evaluators = {}
        for check in config.checks:
            eff = effective(check)
            kept = old.get(check.id)
            # An unchanged check keeps its state: no fresh report for a config push.
            self.evaluators[check.id] = kept if kept is not None and kept.check == eff \
                else Evaluator(eff)
        self.config = config

    async def configure(self, config: HealthConfig) -> None:
        """Take a configuration from the server and keep it for the next start."""
        if self.config is not None and config.revision == self.config.revision:
            return
        self._apply(config)
        await asyncio.to_thread(write_private, self.config_file,
                                msgspec.json.encode(config))
        log.info("health checks configured: %s",
                 ", ".join(c.name for c in config.checks) or "none")
        self._changed.set()

    def tick(self) -> list[HealthResult]:
        """Sample every check once; return the results to report (blocking)."""
        now = self.clock()
        cpu = probes.cpu_percent() if any(
            e.check.kind == "cpu" for e in self.evaluators.values()) and \
            self.read is probes.read else None
        results = []
        for evaluator in list(self.evaluators.values()):
            check = evaluator.check
            try:
                value: float | None
                value, detail = self.read(check, cpu=cpu)
            except probes.ProbeError as exc:
                value, detail = None, str(exc)
            except Exception as exc:  # a probe bug must not stop the other checks
                log.exception("check %s failed", check.name)
                value, detail = None, f"internal error: {type(exc).__name__}"
            result = evaluator.feed(now, value)
            if result is not None:
                result.message = probes.describe(check, result.value, detail)[:500]
                results.append(result)
        return results

    def queue(self, results: list[HealthResult]) -> None:
        """Put results in the outbox as one report (blocking)."""
        self.outbox.put("health", {"results": msgspec.to_builtins(results)})

    async def run(self) -> None:
        """Sample on a timer until cancelled."""
        await asyncio.to_thread(self.load)
        while True:
            if self.config is None or not self.evaluators:
                await self._changed.wait()
                self._changed.clear()
                continue
            try:
                results = await asyncio.to_thread(self.tick)
                if results:
                    await asyncio.to_thread(self.queue, results)
                    self.queued.set()
            except Exception:
                log.exception("health round failed")
            interval = self.interval_override or self.config.interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), interval)
            self._changed.clear()
