// One device: state and live load, 24 h history, inventory by topic, change timeline, revoke.

import { api } from "../api.js";
import { changeSummary } from "../changes.js";
import { SERIES, metricsChart } from "../chart.js";
import { agentVersion, bar, deviceState, osLabel, stateBadge } from "../device_labels.js";
import { allGroups } from "../directory.js";
import { openDeviceSession } from "../device_remote.js";
import { deviceLogins } from "../device_logins.js";
import { deviceHealth } from "../health.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { ago, date, dateTime, percent, time } from "../format.js";
import { has, t } from "../i18n.js";
import { icon } from "../icons.js";
import { factsList, listTable, sectionLabel, softwareList } from "../inventory.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import { every } from "../poll.js";
import { confirmDialog, emptyState, iconButton, openModal, panel } from "../ui.js";

const LIVE_MS = 5_000; // state and load
const INVENTORY_MS = 60_000; // agents check their inventory hourly; a minute is plenty
const HISTORY_MS = 60_000; // the server keeps one sample a minute
const CHANGES_PAGE = 50;

// The tabs and the inventory sections each one shows.
const TABS = [
  { id: "overview", label: "device.tab.overview", sections: ["operatingsystem", "hardware", "bios", "users"] },
  { id: "hardware", label: "device.tab.hardware", sections: ["cpus", "memories", "storages", "drives", "batteries"] },
  { id: "network", label: "device.tab.network", sections: ["networks"] },
  { id: "software", label: "device.tab.software", sections: ["softwares"] },
  { id: "changes", label: "device.tab.changes", sections: [] },
];

/** Fill the Device view; `params` are the device id and the open tab (if any). */
export function deviceView(root, { user, params, setTitle }) {
  const id = Number(params[0]);
  const isAdmin = user.role === "admin";
  let tab = TABS.some((tb) => tb.id === params[1]) ? params[1] : "overview";
  let detail = null;
  const groupNames = new Map();
  const stamps = {}; // tab id -> inventory_updated_at of its sections, as last rendered

  const header = h("section", { class: "panel device-head" });
  const live = h("div", { class: "live" });
  const chart = metricsChart();
  const health = deviceHealth(id);
  const logins = deviceLogins(id);
  const tabButtons = new Map();
  const tabPanels = new Map();
  const tabList = h("div", { class: "tabs", role: "tablist", "aria-label": t("device.details") });
  for (const tb of TABS) {
    const button = h("button", { type: "button", role: "tab", class: "tab", id: `tab-${tb.id}`,
      "aria-controls": `tabpanel-${tb.id}`, "data-tab": tb.id, onclick: () => show(tb.id) }, t(tb.label));
    const body = h("div", { role: "tabpanel", id: `tabpanel-${tb.id}`, "aria-labelledby": button.id,
      class: "tab-panel", hidden: true });
    tabButtons.set(tb.id, button);
    tabPanels.set(tb.id, body);
    tabList.append(button);
  }
  tabList.addEventListener("keydown", (event) => {
    const order = TABS.map((tb) => tb.id);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = order[(order.indexOf(tab) + step + order.length) % order.length];
    show(next);
    tabButtons.get(next).focus();
  });

  function url(tabId) {
    return tabId === "overview" ? `#/devices/${id}` : `#/devices/${id}/${tabId}`;
  }

  function show(tabId) {
    tab = tabId;
    if (location.hash !== url(tabId)) history.replaceState(null, "", url(tabId));
    for (const tb of TABS) {
      const selected = tb.id === tabId;
      tabButtons.get(tb.id).setAttribute("aria-selected", String(selected));
      tabButtons.get(tb.id).tabIndex = selected ? 0 : -1;
      tabPanels.get(tb.id).hidden = !selected;
    }
    if (tabId === "changes" && !changes.started) changes.reload();
  }

  // ---------- header ----------
  function renderHeader() {
    const d = detail.device;
    const state = deviceState(d);
    const groupName = d.group_id ? groupNames.get(d.group_id) || `#${d.group_id}` : null;
    const fact = (label, value, cls = null) => h("div", { class: "summary-item" },
      h("dt", {}, label), h("dd", { class: cls }, value));
    const actions = [];
    if (d.online && !d.revoked_at) {
      actions.push(iconButton("monitor", t("route.remote"), { class: "btn btn-small", "data-action": "device-remote",
        disabled: !d.remote_available || null, onclick: () => openDeviceSession(detail.device, user),
        title: d.remote_available ? t("device.remote_title")
          : t("device.remote_unavailable") }));
    }
    if (isAdmin && state !== "revoked") {
      actions.push(iconButton("group", t("device.change_group"), { class: "btn btn-small", onclick: changeGroup }));
      actions.push(iconButton("ban", t("enrollment.revoke"), { class: "btn btn-small btn-danger-ghost", onclick: revoke }));
    }
    replace(header,
      h("div", { class: "device-title" },
        h("div", { class: `device-icon device-icon-${state}` }, icon("monitor")),
        h("div", { class: "device-name" },
          h("h2", {}, d.hostname),
          h("div", { class: "device-line", "data-state": state }, stateBadge(d),
            h("span", { class: "muted" }, osLabel(d)))),
        actions.length ? h("div", { class: "panel-actions" }, actions) : null),
      state === "revoked" ? h("p", { class: "revoked-note", role: "note" }, icon("ban"),
        t("device.revoked_note", { when: dateTime(d.revoked_at) })) : null,
      h("dl", { class: "summary" },
        fact(t("devices.serial"), d.serial || "\u2014", d.serial ? "mono" : null),
        fact(t("enrollment.group"), groupName || h("span", { class: "muted" }, t("common.none"))),
        fact(t("device.logged_in"), d.logged_in_users.length ? d.logged_in_users.join(", ")
          : h("span", { class: "muted" }, t("device.nobody"))),
        fact(t("devices.col.agent"), agentVersion(d.agent_version), "mono"),
        d.online ? fact(t("device.remote_sessions"), remoteSessions(d)) : null,
        fact(t("device.enrolled"), h("span", { title: dateTime(d.enrolled_at) }, date(d.enrolled_at))),
        fact(t("device.last_seen_label"), d.online ? t("device.now") : h("span", { title: dateTime(d.last_seen_at) },
          d.last_seen_at ? ago(d.last_seen_at) : t("device.never")))));
  }

  // How the agent serves remote sessions ("Wayland (GNOME)"), or why it cannot.
  function remoteSessions(d) {
    const known = (kind, code) => {
      const key = `device.remote_${kind}.${(code || "").replaceAll("-", "_")}`;
      return code && has(key) ? t(key) : null;
    };
    if (d.remote_available) {
      return h("span", { "data-remote-backend": d.remote_backend || "" },
        known("backend", d.remote_backend) || t("device.remote_backend.unknown"));
    }
    return h("span", { class: "muted", "data-remote-unavailable": d.remote_unavailable || "" },
      t("device.remote_none", { reason: known("reason", d.remote_unavailable)
        || t("device.remote_reason.unknown") }));
  }

  function renderLive() {
    const d = detail.device;
    const m = d.metrics;
    const fresh = d.online && m;
    const gauges = SERIES.map((s) => {
      const v = m ? m[s.key] : null;
      return h("div", { class: `gauge ${s.cls}${fresh ? "" : " gauge-stale"}`, "data-metric": s.key },
        h("div", { class: "gauge-label" }, s.label()),
        h("div", { class: "gauge-value" }, v === null ? "\u2014" : percent(v)),
        v === null ? null : bar(v, "bar bar-gauge"));
    });
    let note;
    if (fresh) note = t("device.live_note", { ago: ago(m.at) });
    else if (m) note = t("device.offline_note", { when: dateTime(m.at) });
    else note = d.online ? t("device.waiting_heartbeat") : t("device.no_values");
    replace(live, h("div", { class: "gauges" }, gauges), h("p", { class: "live-note" }, note));
  }

  // ---------- inventory tabs ----------
  function sectionPanel(section, body) {
    const updated = detail.inventory_updated_at[section];
    return panel(sectionLabel(section), body, {
      actions: updated ? h("span", { class: "muted small", title: dateTime(updated) },
        t("device.updated", { ago: ago(updated) })) : null,
      cls: "inventory-panel",
    });
  }

  function renderTab(tabId) {
    const inv = detail.inventory;
    const body = tabPanels.get(tabId);
    if (tabId === "overview") {
      replace(body, h("div", { class: "stack-lg" },
        h("div", { class: "overview-load" },
          panel(t("device.live_load"), live, { cls: "panel-live" }),
          panel(t("device.last_24h"), chart.el, { cls: "panel-chart" })),
        panel(t("health.table"), health.el, { cls: "panel-health" }),
        logins.el,
        h("div", { class: "grid-2" },
          sectionPanel("operatingsystem", factsList("operatingsystem", inv.operatingsystem)),
          sectionPanel("hardware", factsList("hardware", inv.hardware)),
          sectionPanel("bios", factsList("bios", inv.bios)),
          sectionPanel("users", listTable("users", inv.users, { emptyText: t("device.nobody_logged_in") })))));
    } else if (tabId === "hardware") {
      replace(body, h("div", { class: "stack-lg" },
        ["cpus", "memories", "storages", "drives", "batteries"].map((s) => sectionPanel(s,
          listTable(s, inv[s], { emptyText: s === "memories" ? t("device.memories_none")
            : s === "batteries" ? t("device.no_battery") : t("device.none_reported") })))));
    } else if (tabId === "network") {
      replace(body, sectionPanel("networks", listTable("networks", inv.networks)));
    } else if (tabId === "software") {
      replace(body, sectionPanel("softwares", softwareList(inv.softwares)));
    } else if (tabId === "changes") {
      replace(body, changes.el);
    }
  }

  function softwareCount() {
    const list = detail.inventory.softwares;
    const button = tabButtons.get("software");
    replace(button, t("device.tab.software"), Array.isArray(list) ? h("span", { class: "count" }, String(list.length)) : null);
  }

  function renderInventory({ force = false } = {}) {
    for (const tb of TABS) {
      const stamp = JSON.stringify(tb.sections.map((s) => detail.inventory_updated_at[s] || null));
      if (force || stamps[tb.id] !== stamp) {
        stamps[tb.id] = stamp;
        renderTab(tb.id);
      }
    }
    softwareCount();
  }

  // ---------- change timeline ----------
  const changes = (() => {
    const list = h("ol", { class: "timeline", "aria-label": t("device.inventory_changes") });
    const more = h("button", { type: "button", class: "btn", hidden: true, onclick: () => load() }, t("common.load_more"));
    const el = panel(t("device.inventory_changes"), [list, h("div", { class: "timeline-foot" }, more)]);
    const state = { started: false, cursor: null, last: null, newest: null, gen: 0 };

    function entry(at) {
      const body = h("div", { class: "timeline-body" });
      const li = h("li", { class: "timeline-entry", "data-at": at },
        h("div", { class: "timeline-time", title: dateTime(at) }, h("span", { class: "strong" }, date(at)),
          h("span", { class: "muted small" }, `${time(at)} \u00b7 ${ago(at)}`)),
        body);
      li.firstReported = [];
      li.body = body;
      return li;
    }

    // Items of one report share a time; sections first reported together read as one line.
    function add(item) {
      let li = state.last;
      if (!li || li.dataset.at !== item.at) {
        li = entry(item.at);
        list.append(li);
        state.last = li;
      }
      if (item.change && item.change.kind === "added") {
        li.firstReported.push(item.section);
        if (!li.firstNode) {
          li.firstNode = h("div", { class: "change" });
          li.body.prepend(li.firstNode);
        }
        replace(li.firstNode, h("span", { class: "change-section" }, t("device.first_reported")),
          h("span", { class: "change-note" }, li.firstReported.map(sectionLabel).join(", ")));
      } else {
        li.body.append(changeSummary(item.section, item.change));
      }
    }

    async function load(gen = state.gen) {
      const data = await guarded(() => api.get(`/api/v1/devices/${id}/changes`,
        { limit: CHANGES_PAGE, cursor: state.cursor }));
      if (!data || gen !== state.gen) return;
      if (!state.newest && data.items.length) state.newest = data.items[0].id;
      data.items.forEach(add);
      state.cursor = data.next_cursor;
      more.hidden = !state.cursor;
      if (!list.children.length) {
        replace(list, h("li", { class: "timeline-empty" },
          emptyState("history", t("device.no_changes"), t("device.no_changes_text"))));
      }
    }

    return {
      el,
      get started() { return state.started; },
      reload() {
        state.started = true;
        state.gen += 1;
        state.cursor = null;
        state.last = null;
        state.newest = null;
        list.replaceChildren();
        return load(state.gen);
      },
    };
  })();

  // ---------- actions ----------
  async function revoke() {
    const d = detail.device;
    const ok = await confirmDialog(t("device.revoke_title"), t("device.revoke_question", { name: d.hostname }),
      { confirmLabel: t("device.revoke_title"), danger: true });
    if (!ok) return;
    clearNotice();
    const updated = await guarded(() => api.post(`/api/v1/devices/${id}/revoke`));
    if (!updated) return;
    showDevice(updated);
    showSuccess(t("device.revoked", { name: updated.hostname }));
  }

  function changeGroup() {
    const d = detail.device;
    const select = h("select", { name: "group_id" },
      h("option", { value: "", selected: !d.group_id }, t("enrollment.no_group")),
      [...groupNames].map(([gid, name]) => h("option", { value: String(gid), selected: gid === d.group_id }, name)));
    const form = h("form", { class: "stack", "aria-label": t("device.change_group") },
      field(t("enrollment.group"), select, t("device.group_hint")),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("common.cancel")),
        h("button", { type: "submit", class: "btn btn-primary" }, t("common.save"))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearNotice();
      const v = formValues(form);
      try {
        const updated = await busy(form, () => api.patch(`/api/v1/devices/${id}`,
          { group_id: v.group_id ? Number(v.group_id) : null }));
        dialog.close();
        showDevice(updated);
        showSuccess(updated.group_id
          ? t("device.group_set", { name: updated.hostname, group: groupNames.get(updated.group_id) })
          : t("device.group_none", { name: updated.hostname }));
      } catch (error) {
        showError(error);
      }
    });
    const dialog = openModal(t("device.group_of", { name: d.hostname }), form);
  }

  // ---------- loading ----------
  let headerSig = "";

  function showDevice(device) {
    detail.device = device;
    // Redraw the header (and its buttons, which may have focus) only when it would change.
    const seen = device.online ? "" : device.last_seen_at;
    const sig = `${JSON.stringify({ ...device, metrics: null, last_seen_at: seen })}|${ago(seen)}`;
    if (sig !== headerSig) {
      headerSig = sig;
      renderHeader();
    }
    renderLive();
  }

  async function fetchDetail() {
    const data = await api.get(`/api/v1/devices/${id}`);
    const changed = detail && JSON.stringify(detail.inventory_updated_at) !== JSON.stringify(data.inventory_updated_at);
    detail = data;
    headerSig = "";
    showDevice(data.device);
    renderInventory();
    if (changed && changes.started) changes.reload();
  }

  // The device alone, without its inventory (which is ~200 KB for a desktop): the list
  // endpoint searched by host name, which answers the same Device object.
  async function fetchState() {
    const d = detail.device;
    const data = await api.get("/api/v1/devices", { q: d.hostname, revoked: d.revoked_at ? true : null,
      limit: 200 });
    const found = data.items.find((item) => item.id === id);
    if (found) showDevice(found);
    else await fetchDetail(); // renamed, or too common a name: take the long way
  }

  async function fetchHistory() {
    const data = await api.get(`/api/v1/devices/${id}/metrics`, { hours: 24 });
    chart.update(data.items);
  }

  root.append(
    h("a", { class: "back-link", href: "#/devices" }, icon("back"), t("device.all")),
    header);
  replace(header, h("p", { class: "muted panel-body" }, t("common.loading")));

  (async () => {
    const groups = await guarded(allGroups);
    for (const g of groups || []) groupNames.set(g.id, g.name);
    const ok = await guarded(async () => {
      await fetchDetail();
      return true;
    });
    if (!ok) {
      replace(header, emptyState("monitor", t("device.cannot_show"), t("device.cannot_show_text"),
        h("a", { class: "btn", href: "#/devices" }, t("device.back"))));
      return;
    }
    if (!root.isConnected) return; // the user went elsewhere meanwhile
    setTitle(detail.device.hostname);
    root.append(tabList, ...tabPanels.values());
    show(tab);
    await guarded(fetchHistory);
    await guarded(health.refresh);
    await guarded(logins.refresh);
    every(root, LIVE_MS, fetchState);
    every(root, LIVE_MS, health.refresh);
    every(root, INVENTORY_MS, fetchDetail);
    every(root, INVENTORY_MS, logins.refresh);
    every(root, HISTORY_MS, fetchHistory);
  })();
}
