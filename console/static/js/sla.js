// SLA state of a ticket as the desk shows it: a queue badge with a countdown, and the
// ticket page's panel with each clock. Times count down from the server's due times.

import { h } from "./dom.js";
import { dateTime } from "./format.js";

export const CLOCK_LABELS = { first_response: "First response", resolution: "Resolution",
  next_update: "Next update" };
const STATE_LABELS = { running: "Running", paused: "Paused", met: "Met", breached: "Breached",
  cancelled: "Cancelled" };

/** "2h 05m", "3d 4h", "12m" for a number of minutes (absolute value). */
export function span(minutes) {
  const m = Math.round(Math.abs(minutes));
  if (m >= 1440) return `${Math.floor(m / 1440)}d ${Math.floor((m % 1440) / 60)}h`;
  if (m >= 60) return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
  return `${m}m`;
}

function openClocks(sla) {
  return sla ? sla.clocks.filter((c) => !c.stopped_at) : [];
}

/** The queue cell: what is most urgent about the ticket's SLA, or a dash. */
export function slaBadge(sla, now = Date.now()) {
  const open = openClocks(sla);
  if (!sla || !sla.clocks.length) return h("span", { class: "muted" }, "\u2014");
  const breached = open.filter((c) => c.state === "breached");
  if (breached.length) {
    const since = Math.min(...breached.map((c) => Date.parse(c.breached_at)));
    return h("span", { class: "sla sla-breached", "data-sla": "breached",
      title: `Breached ${dateTime(new Date(since).toISOString())}` },
    now > since ? `Overdue ${span((now - since) / 60000)}` : "Overdue");
  }
  const running = open.filter((c) => c.state === "running" && c.due_at);
  if (running.length) {
    const next = running.reduce((a, b) => (Date.parse(a.due_at) <= Date.parse(b.due_at) ? a : b));
    const left = (Date.parse(next.due_at) - now) / 60000;
    const warned = next.warnings_fired > 0 || left <= 0;
    return h("span", { class: `sla ${warned ? "sla-warning" : "sla-running"}`,
      "data-sla": warned ? "warning" : "running",
      title: `${CLOCK_LABELS[next.kind] || next.kind} due ${dateTime(next.due_at)}` },
    left > 0 ? `${span(left)} left` : "Due now");
  }
  if (open.some((c) => c.state === "paused")) {
    return h("span", { class: "sla sla-paused", "data-sla": "paused" }, "Paused");
  }
  const breachedEver = sla.clocks.some((c) => c.state === "breached");
  return h("span", { class: `sla ${breachedEver ? "sla-breached-done" : "sla-met"}`,
    "data-sla": breachedEver ? "missed" : "met" }, breachedEver ? "Missed" : "Met");
}

/** The ticket page panel: one row per clock with its state, due time and time left. */
export function slaClocks(sla, now = Date.now()) {
  if (!sla || !sla.clocks.length) {
    return h("p", { class: "muted small" }, "No SLA policy applies to this ticket.");
  }
  return h("ul", { class: "sla-clocks" }, sla.clocks.map((c) => {
    let detail;
    if (c.state === "running" && c.due_at) {
      const left = (Date.parse(c.due_at) - now) / 60000;
      detail = [left > 0 ? `${span(left)} left` : "due now", " \u00b7 due ", dateTime(c.due_at)];
    } else if (c.state === "paused") {
      detail = `${span(c.remaining_minutes)} of business time left when it resumes`;
    } else if (c.state === "breached") {
      let after = null;
      if (c.stopped_at) after = ` \u00b7 stopped ${dateTime(c.stopped_at)}`;
      else if (c.remaining_minutes < 0) after = ` \u00b7 overdue ${span(-c.remaining_minutes)} (business time)`;
      detail = [`breached ${dateTime(c.breached_at)}`, after];
    } else if (c.state === "met") {
      detail = `met after ${span(c.elapsed_minutes)} of ${span(c.target_minutes)}`;
    } else {
      detail = "no longer measured";
    }
    return h("li", { class: "sla-clock", "data-kind": c.kind, "data-state": c.state },
      h("div", { class: "sla-clock-head" },
        h("span", { class: "strong" }, CLOCK_LABELS[c.kind] || c.kind),
        h("span", { class: `sla sla-${c.state}` }, STATE_LABELS[c.state] || c.state)),
      h("div", { class: "muted small" }, detail),
      h("div", { class: "muted small" }, `${c.policy_name} \u00b7 target ${span(c.target_minutes)}`));
  }));
}
