// Health checks of one device: their state, reading and open incident (device page).

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { ago, dateTime } from "./format.js";

const LABELS = { ok: "OK", warning: "Warning", critical: "Critical", unknown: "Unknown", pending: "Waiting" };
const KINDS = { disk: "Disk", memory: "Memory", cpu: "CPU", service: "Service", process: "Process" };

/** Return a coloured label for a check state. */
export function healthBadge(state) {
  return h("span", { class: `badge badge-health badge-health-${state}`, "data-health": state },
    LABELS[state] || state);
}

/** Return "warn 80 % · crit 90 %" for a numeric check, or what an up/down check watches. */
export function levelsText(check) {
  if (check.kind === "service" || check.kind === "process") return `${KINDS[check.kind]} ${check.target} running`;
  const parts = [];
  if (check.warning !== null) parts.push(`warning \u2265 ${check.warning} %`);
  if (check.critical !== null) parts.push(`critical \u2265 ${check.critical} %`);
  const where = check.kind === "disk" ? `${check.target} ` : "";
  const window = check.window ? ` \u00b7 average of ${check.window} s` : "";
  return `${KINDS[check.kind]} ${where}\u00b7 ${parts.join(", ")}${window}`;
}

/** Return {el, refresh} for the health panel body of device `id`. */
export function deviceHealth(id) {
  const el = h("div", { class: "health-list" });
  let sig = "";

  function row(item, now) {
    const c = item.check;
    return h("tr", { "data-check": c.name, "data-state": item.state },
      h("td", { class: "nowrap" }, healthBadge(item.state)),
      h("td", {}, h("strong", {}, c.name), h("div", { class: "cell-sub" }, levelsText(c))),
      h("td", {}, item.message || h("span", { class: "muted" }, "No result yet"),
        item.changed_at ? h("div", { class: "cell-sub", title: dateTime(item.changed_at) },
          `since ${ago(item.changed_at, now)}`) : null),
      h("td", { class: "nowrap" }, item.incident
        ? h("a", { href: `#/desk/tickets/${item.incident.id}`, class: "mono" }, item.incident.number)
        : h("span", { class: "muted" }, "\u2014")));
  }

  async function refresh() {
    const data = await api.get(`/api/v1/devices/${id}/health`);
    const now = Date.now();
    const next = JSON.stringify(data.items);
    if (next === sig) return;
    sig = next;
    if (!data.items.length) {
      replace(el, h("p", { class: "muted" },
        "No health checks apply to this device. An administrator sets them per device group in "
        + "Administration \u2192 Health checks."));
      return;
    }
    replace(el, h("table", { class: "table table-health", "aria-label": "Health checks" },
      h("thead", {}, h("tr", {}, ["State", "Check", "Reading", "Incident"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, data.items.map((item) => row(item, now)))));
  }

  return { el, refresh };
}
