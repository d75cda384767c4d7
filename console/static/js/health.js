// Health checks of one device: their state, reading and open incident (device page).

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { ago, dateTime } from "./format.js";
import { labels, t } from "./i18n.js";

const LABELS = labels("health.state", ["ok", "warning", "critical", "unknown", "pending"]);
const KINDS = labels("health.kind", ["disk", "memory", "cpu", "service", "process"]);

/** Return a coloured label for a check state. */
export function healthBadge(state) {
  return h("span", { class: `badge badge-health badge-health-${state}`, "data-health": state },
    LABELS[state] || state);
}

/** Return "warn 80 % · crit 90 %" for a numeric check, or what an up/down check watches. */
export function levelsText(check) {
  if (check.kind === "service" || check.kind === "process") {
    return t("health.levels.running", { kind: KINDS[check.kind], target: check.target });
  }
  const parts = [];
  if (check.warning !== null) parts.push(t("health.levels.warning", { n: check.warning }));
  if (check.critical !== null) parts.push(t("health.levels.critical", { n: check.critical }));
  const where = check.kind === "disk" ? `${check.target} ` : "";
  const window = check.window ? ` \u00b7 ${t("health.levels.window", { n: check.window })}` : "";
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
      h("td", {}, item.message || h("span", { class: "muted" }, t("health.no_result")),
        item.changed_at ? h("div", { class: "cell-sub", title: dateTime(item.changed_at) },
          t("health.since", { ago: ago(item.changed_at, now) })) : null),
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
      replace(el, h("p", { class: "muted" }, t("health.none_for_device")));
      return;
    }
    replace(el, h("table", { class: "table table-health", "aria-label": t("health.table") },
      h("thead", {}, h("tr", {}, ["state", "check", "reading", "incident"].map((col) =>
        h("th", { scope: "col" }, t(`health.col.${col}`))))),
      h("tbody", {}, data.items.map((item) => row(item, now)))));
  }

  return { el, refresh };
}
