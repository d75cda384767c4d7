// Periodic refresh of a view while it is on screen (there is no live feed for it yet).

import { showError } from "./notice.js";

/**
 * Run `work` every `ms` milliseconds while `root` is in the page; return a handle.
 * The next run is timed from the end of the previous one, so slow answers never pile up.
 * While the tab is hidden the work is skipped; it runs at once when the tab shows again.
 * `handle.now()` runs it immediately (and restarts the interval); `handle.stop()` ends it.
 */
export function every(root, ms, work) {
  let timer = 0;
  let running = false;
  let stopped = false;

  const alive = () => !stopped && root.isConnected;

  async function tick() {
    timer = 0;
    if (!alive()) {
      stop();
      return;
    }
    if (running) return;
    if (!document.hidden) {
      running = true;
      try {
        await work();
      } catch (error) {
        showError(error); // keep polling: the next round may succeed
      } finally {
        running = false;
      }
    }
    if (alive() && !timer) timer = setTimeout(tick, ms);
  }

  function onVisible() {
    if (!alive()) {
      stop();
      return;
    }
    if (!document.hidden) now();
  }

  function now() {
    clearTimeout(timer);
    timer = 0;
    tick();
  }

  function stop() {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisible);
  }

  document.addEventListener("visibilitychange", onVisible);
  timer = setTimeout(tick, ms);
  return { now, stop };
}
