// SLA state of a ticket as the desk shows it: a queue badge with a countdown, and the
// ticket page's panel with each clock. Times count down from the server's due times.

import { h } from "./dom.js";
import { dateTime } from "./format.js";
import { labels, t } from "./i18n.js";

export const CLOCK_LABELS = labels("sla.clock", ["first_response", "resolution", "next_update"]);
const STATE_LABELS = labels("sla.state", ["running", "paused", "met", "breached", "cancelled"]);

/** "2h 05m", "3d 4h", "12m" for a number of minutes (absolute value). */
export function span(minutes) {
  const m = Math.round(Math.abs(minutes));
  if (m >= 1440) return t("sla.span.days", { d: Math.floor(m / 1440), h: Math.floor((m % 1440) / 60) });
  if (m >= 60) return t("sla.span.hours", { h: Math.floor(m / 60), m: String(m % 60).padStart(2, "0") });
  return t("sla.span.minutes", { m });
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
      title: t("sla.badge.breached_at", { when: dateTime(new Date(since).toISOString()) }) },
    now > since ? t("sla.badge.overdue_by", { span: span((now - since) / 60000) }) : t("sla.badge.overdue"));
  }
  const running = open.filter((c) => c.state === "running" && c.due_at);
  if (running.length) {
    const next = running.reduce((a, b) => (Date.parse(a.due_at) <= Date.parse(b.due_at) ? a : b));
    const left = (Date.parse(next.due_at) - now) / 60000;
    const warned = next.warnings_fired > 0 || left <= 0;
    return h("span", { class: `sla ${warned ? "sla-warning" : "sla-running"}`,
      "data-sla": warned ? "warning" : "running",
      title: t("sla.badge.due_at", { clock: CLOCK_LABELS[next.kind] || next.kind, when: dateTime(next.due_at) }) },
    left > 0 ? t("sla.badge.left", { span: span(left) }) : t("sla.badge.due_now"));
  }
  if (open.some((c) => c.state === "paused")) {
    return h("span", { class: "sla sla-paused", "data-sla": "paused" }, t("sla.state.paused"));
  }
  const breachedEver = sla.clocks.some((c) => c.state === "breached");
  return h("span", { class: `sla ${breachedEver ? "sla-breached-done" : "sla-met"}`,
    "data-sla": breachedEver ? "missed" : "met" }, breachedEver ? t("sla.badge.missed") : t("sla.state.met"));
}

/** The ticket page panel: one row per clock with its state, due time and time left. */
export function slaClocks(sla, now = Date.now()) {
  if (!sla || !sla.clocks.length) {
    return h("p", { class: "muted small" }, t("sla.none"));
  }
  return h("ul", { class: "sla-clocks" }, sla.clocks.map((c) => {
    let detail;
    if (c.state === "running" && c.due_at) {
      const left = (Date.parse(c.due_at) - now) / 60000;
      detail = [left > 0 ? t("sla.badge.left", { span: span(left) }) : t("sla.clock_detail.due_now"), " \u00b7 ",
        t("sla.clock_detail.due", { when: dateTime(c.due_at) })];
    } else if (c.state === "paused") {
      detail = t("sla.clock_detail.paused", { span: span(c.remaining_minutes) });
    } else if (c.state === "breached") {
      let after = null;
      if (c.stopped_at) after = ` \u00b7 ${t("sla.clock_detail.stopped", { when: dateTime(c.stopped_at) })}`;
      else if (c.remaining_minutes < 0) after = ` \u00b7 ${t("sla.clock_detail.overdue", { span: span(-c.remaining_minutes) })}`;
      detail = [t("sla.clock_detail.breached", { when: dateTime(c.breached_at) }), after];
    } else if (c.state === "met") {
      detail = t("sla.clock_detail.met", { elapsed: span(c.elapsed_minutes), target: span(c.target_minutes) });
    } else {
      detail = t("sla.clock_detail.unmeasured");
    }
    return h("li", { class: "sla-clock", "data-kind": c.kind, "data-state": c.state },
      h("div", { class: "sla-clock-head" },
        h("span", { class: "strong" }, CLOCK_LABELS[c.kind] || c.kind),
        h("span", { class: `sla sla-${c.state}` }, STATE_LABELS[c.state] || c.state)),
      h("div", { class: "muted small" }, detail),
      h("div", { class: "muted small" },
        t("sla.clock_detail.policy", { policy: c.policy_name, target: span(c.target_minutes) })));
  }));
}
