// How a device's state, system and load read in tables and headers.

import { h } from "./dom.js";
import { ago, dateTime, percent } from "./format.js";
import { t } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";

/** Return "online", "offline" or "revoked". */
export function deviceState(device) {
  if (device.revoked_at) return "revoked";
  return device.online ? "online" : "offline";
}

/** A dot + label: Online, Offline · last seen …, or Revoked. */
export function stateBadge(device, { now = Date.now(), detail = true } = {}) {
  const state = deviceState(device);
  if (state === "revoked") {
    return h("span", { class: "status status-revoked", "data-state": state,
      title: t("device.revoked_at", { when: dateTime(device.revoked_at) }) }, t("device.state.revoked"));
  }
  if (state === "online") {
    return h("span", { class: "status status-on", "data-state": state }, t("device.state.online"));
  }
  return h("span", { class: "status status-off", "data-state": state,
    title: device.last_seen_at ? t("device.last_seen_at", { when: dateTime(device.last_seen_at) }) : null },
  t("device.state.offline"), detail ? h("span", { class: "status-detail" }, lastSeen(device, now)) : null);
}

/** Return "last seen 5 min ago" (or "never connected") for an offline device. */
export function lastSeen(device, now = Date.now()) {
  return device.last_seen_at ? t("device.last_seen", { ago: ago(device.last_seen_at, now) }) : t("device.never_connected");
}

/** Return "Debian GNU/Linux 12 (bookworm)" from a device's OS name and version. */
export function osLabel(device) {
  return [device.os_name, device.os_version].filter(Boolean).join(" ") || "\u2014";
}

/** Return the agent's version without GLPI's "Name_v" prefix ("0.1.0"). */
export function agentVersion(text) {
  if (!text) return "\u2014";
  const match = /_v(\d[\w.+-]*)$/.exec(text) || /^[a-z-]+ (\d[\w.+-]*)$/i.exec(text);
  return match ? match[1] : text;
}

/** Return the colour band of a usage percentage: ok, warn (>= 75) or high (>= 90). */
export function usageLevel(value) {
  if (value >= 90) return "high";
  if (value >= 75) return "warn";
  return "ok";
}

/** A horizontal bar filled to `value` percent (an SVG, so no inline style is needed). */
export function bar(value, cls = "bar") {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("class", `${cls} bar-${usageLevel(value)}`);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const track = document.createElementNS(NS, "rect");
  track.setAttribute("class", "bar-track");
  track.setAttribute("width", "100%");
  track.setAttribute("height", "100%");
  track.setAttribute("rx", "2");
  const fill = document.createElementNS(NS, "rect");
  fill.setAttribute("class", "bar-fill");
  fill.setAttribute("width", `${Math.max(0, Math.min(100, Number(value) || 0))}%`);
  fill.setAttribute("height", "100%");
  fill.setAttribute("rx", "2");
  svg.append(track, fill);
  return svg;
}

/** A small bar with its percentage, for a table cell ("—" when there is no value). */
export function usageCell(value, label) {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "\u2014");
  return h("span", { class: "usage", title: `${label} ${percent(value)}` },
    bar(value), h("span", { class: "usage-value" }, percent(value)));
}
