// Devices (technicians and admins): the enrolled machines, searchable, refreshed every 10 s.

import { api } from "../api.js";
import { agentVersion, osLabel, stateBadge, usageCell } from "../device_labels.js";
import { allGroups } from "../directory.js";
import { h, replace } from "../dom.js";
import { ago, time } from "../format.js";
import { t, tn } from "../i18n.js";
import { icon } from "../icons.js";
import { guarded } from "../notice.js";
import { every } from "../poll.js";
import { emptyState } from "../ui.js";

const PAGE_SIZE = 50;
const REFRESH_MS = 10_000;
const COLUMNS = ["status", "hostname", "os", "users", "agent", "cpu", "memory", "disk"];

/** Fill the Devices view. */
export function devicesView(root, { user }) {
  const groupNames = new Map();
  const rows = new Map(); // device id -> {sig, tr}
  let devices = [];
  let cursor = null;
  let generation = 0;
  let loaded = false;
  let loads = 0; // pages fetched by hand; a refresh that overlaps one is dropped

  const search = h("input", { type: "search", name: "q", placeholder: t("devices.search_placeholder"),
    "aria-label": t("devices.search"), maxlength: 200 });
  const state = h("select", { name: "state", "aria-label": t("users.filter_status"), class: "select-narrow" },
    h("option", { value: "" }, t("users.any_status")), h("option", { value: "online" }, t("device.state.online")),
    h("option", { value: "offline" }, t("device.state.offline")), h("option", { value: "revoked" }, t("device.state.revoked")));
  const health = h("select", { name: "health", "aria-label": t("devices.filter_health"), class: "select-narrow" },
    h("option", { value: "" }, t("devices.any_health")), h("option", { value: "failing" }, t("devices.failing")),
    h("option", { value: "critical" }, t("health.state.critical")), h("option", { value: "warning" }, t("health.state.warning")));
  const group = h("select", { name: "group_id", "aria-label": t("devices.filter_group"), hidden: true,
    class: "select-narrow" },
    h("option", { value: "" }, t("devices.all_groups")));
  const os = h("input", { type: "search", name: "os", placeholder: t("devices.col.os"),
    "aria-label": t("devices.filter_os"), maxlength: 200, class: "filter-input" });
  const software = h("input", { type: "search", name: "software", placeholder: t("devices.software"),
    title: t("devices.software_title"), "aria-label": t("devices.filter_software"),
    maxlength: 255, class: "filter-input" });
  const version = h("input", { type: "search", name: "software_version", placeholder: t("devices.version"),
    "aria-label": t("devices.software_version"), maxlength: 255, class: "filter-input filter-short", disabled: true });

  const tbody = h("tbody");
  const table = h("table", { class: "table table-devices", "aria-label": t("nav.devices") },
    h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col" }, t(`devices.col.${c}`))))), tbody);
  const empty = h("div", { hidden: true });
  const count = h("span", { class: "muted", "aria-live": "polite" });
  const loadMore = h("button", { type: "button", class: "btn", hidden: true, onclick: () => more(generation) },
    t("common.load_more"));

  function query() {
    const q = { q: search.value.trim(), os: os.value.trim(), group_id: group.value, health: health.value };
    const name = software.value.trim();
    if (name) {
      q.software = name;
      q.software_version = version.value.trim();
    }
    if (state.value === "online") q.online = true;
    if (state.value === "offline") q.online = false;
    if (state.value === "revoked") q.revoked = true;
    return q;
  }

  function filtered() {
    return Object.values(query()).some((v) => v !== "" && v !== undefined);
  }

  function row(d, now) {
    const groupName = d.group_id ? groupNames.get(d.group_id) : null;
    const m = d.online ? d.metrics : null;
    const users = d.logged_in_users;
    const serial = d.serial;
    return h("tr", { "data-device": d.hostname, "data-id": d.id },
      h("td", { class: "nowrap" }, stateBadge(d, { now, detail: false }),
        d.online || d.revoked_at ? null : h("div", { class: "cell-sub cell-indent" },
          d.last_seen_at ? t("devices.seen", { ago: ago(d.last_seen_at, now) }) : t("device.never_connected"))),
      h("td", { class: "cell-host" },
        h("a", { href: `#/devices/${d.id}`, class: "strong" }, d.hostname),
        serial || groupName ? h("div", { class: "cell-sub" },
          serial ? h("span", { class: "mono", title: t("devices.serial") }, serial) : null,
          groupName ? h("span", { class: "chip" }, groupName) : null) : null),
      h("td", { class: "cell-os" }, osLabel(d)),
      h("td", {}, users.length ? users.join(", ") : h("span", { class: "muted" }, "\u2014")),
      h("td", { class: "mono nowrap" }, agentVersion(d.agent_version)),
      h("td", { class: "cell-usage" }, usageCell(m && m.cpu_percent, t("devices.col.cpu"))),
      h("td", { class: "cell-usage" }, usageCell(m && m.memory_percent, t("devices.col.memory"))),
      h("td", { class: "cell-usage" }, usageCell(m && m.disk_percent, t("devices.col.disk"))));
  }

  // Update the table in place: unchanged rows stay (with their focus and hover).
  function render() {
    const now = Date.now();
    const wanted = devices.map((d) => {
      const sig = `${JSON.stringify(d)}|${d.online ? "" : ago(d.last_seen_at, now)}|${groupNames.get(d.group_id) || ""}`;
      const known = rows.get(d.id);
      if (known && known.sig === sig) return known.tr;
      const tr = row(d, now);
      rows.set(d.id, { sig, tr });
      return tr;
    });
    const ids = new Set(devices.map((d) => d.id));
    for (const id of [...rows.keys()]) if (!ids.has(id)) rows.delete(id);
    wanted.forEach((tr, i) => {
      const current = tbody.children[i];
      if (current !== tr) tbody.insertBefore(tr, current || null);
    });
    while (tbody.children.length > wanted.length) tbody.lastElementChild.remove();

    const n = devices.length;
    const online = devices.filter((d) => d.online).length;
    replace(count, tn("devices.count", n), cursor ? ` ${t("common.more_available")}` : "",
      n ? ` \u00b7 ${t("devices.online_count", { n: online })}` : "",
      ` \u00b7 ${t("devices.updated_at", { time: time(new Date(now).toISOString()) })}`);
    loadMore.hidden = !cursor;
    table.hidden = n === 0;
    empty.hidden = n !== 0;
    if (n === 0) {
      replace(empty, filtered()
        ? emptyState("search", t("devices.none_match"), t("common.try_other_filter"))
        : emptyState("monitor", t("devices.none"), t("devices.none_text"),
          user.role === "admin"
            ? h("a", { class: "btn btn-primary", href: "#/admin/enrollment" }, icon("enroll"),
              t("devices.create_token"))
            : h("p", { class: "hint" }, t("devices.ask_token"))));
    }
  }

  async function more(gen) {
    const data = await guarded(() => api.get("/api/v1/devices", { limit: PAGE_SIZE, cursor, ...query() }));
    if (!data || gen !== generation) return;
    loads += 1;
    const known = new Set(devices.map((d) => d.id));
    devices = devices.concat(data.items.filter((d) => !known.has(d.id)));
    cursor = data.next_cursor;
    loaded = true;
    render();
  }

  // Fetch again every page loaded so far (keyset pages, in id order), plus new arrivals.
  async function refresh() {
    if (!loaded) return;
    const gen = generation;
    const before = loads;
    const last = devices.length ? devices[devices.length - 1].id : 0;
    const fresh = [];
    let next = null;
    do {
      const data = await api.get("/api/v1/devices", { limit: PAGE_SIZE, cursor: next, ...query() });
      if (gen !== generation || before !== loads) return;
      fresh.push(...data.items);
      next = data.next_cursor;
    } while (next && fresh.length && fresh[fresh.length - 1].id < last);
    devices = fresh;
    cursor = next;
    render();
  }

  function reload() {
    generation += 1;
    cursor = null;
    devices = [];
    loaded = false;
    return more(generation);
  }

  let timer = 0;
  for (const input of [search, os, software, version]) {
    input.addEventListener("input", () => {
      version.disabled = !software.value.trim();
      clearTimeout(timer);
      timer = setTimeout(reload, 250);
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        clearTimeout(timer);
        reload();
      }
    });
  }
  state.addEventListener("change", reload);
  group.addEventListener("change", reload);
  health.addEventListener("change", reload);

  root.append(
    h("div", { class: "toolbar" },
      h("div", { class: "search search-devices" }, icon("search"), search), state, health, group, os, software,
      version),
    h("section", { class: "panel" },
      h("div", { class: "table-wrap" }, table, empty),
      h("footer", { class: "panel-foot" }, count, loadMore)));

  (async () => {
    const groups = await guarded(allGroups);
    for (const g of groups || []) {
      groupNames.set(g.id, g.name);
      group.append(h("option", { value: String(g.id) }, g.name));
    }
    group.hidden = !groupNames.size;
    await reload();
    every(root, REFRESH_MS, refresh);
  })();
}
