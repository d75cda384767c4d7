// Readable views of a device's inventory sections (GLPI's names, fields and units).

import { bar } from "./device_labels.js";
import { h, replace } from "./dom.js";
import { bytes, date, megabytes, number, percent } from "./format.js";
import { labels, t, tn } from "./i18n.js";
import { icon } from "./icons.js";
import { emptyState } from "./ui.js";

const SOFTWARE_SHOWN = 200; // rows rendered before "Show all"

export const SECTION_LABELS = labels("inv.section", ["operatingsystem", "hardware", "bios", "cpus", "memories",
  "storages", "drives", "networks", "batteries", "users", "softwares", "versionclient"]);

// A column or fact label: a catalogue key, or a field name the console does not know.
const label = (name) => (name.startsWith("inv.") ? t(name) : name);

/** Return the human name of a section ("softwares" -> "Software"). */
export function sectionLabel(section) {
  return SECTION_LABELS[section] || section;
}

const mhz = (v) => (Number(v) >= 1000 ? `${number(Number(v) / 1000)} GHz` : `${v} MHz`);
const yesNo = (v) => (v ? t("common.yes") : t("common.no"));

// Labels (and formats) of the fields of object sections, in display order.
const FACTS = {
  operatingsystem: [
    ["full_name", "inv.name"], ["version", "inv.version"], ["arch", "inv.architecture"],
    ["kernel_name", "inv.kernel", (v, s) => [v, s.kernel_version].filter(Boolean).join(" ")],
    ["kernel_version", null], ["name", null],
    ["boot_time", "inv.booted"],
    ["timezone", "inv.time_zone", (v) => (v && typeof v === "object" ? `${v.name || ""} (UTC${v.offset || ""})`.trim() : v)],
    ["fqdn", "inv.fqdn"], ["dns_domain", "inv.dns_domain"], ["install_date", "inv.installed", date],
  ],
  hardware: [
    ["name", "inv.host_name"], ["memory", "inv.memory", megabytes], ["swap", "inv.swap", megabytes],
    ["vmsystem", "inv.virtualization"], ["chassis_type", "inv.chassis"], ["uuid", "inv.uuid"],
    ["defaultgateway", "inv.default_gateway"], ["dns", "inv.dns_servers", (v) => String(v).split("/").join(", ")],
    ["workgroup", "inv.domain"], ["oscomments", "inv.kernel_build"],
  ],
  bios: [
    ["smanufacturer", "inv.manufacturer"], ["smodel", "inv.model"], ["ssn", "inv.serial_number"],
    ["skunumber", "inv.sku"], ["assettag", "inv.asset_tag"], ["enclosureserial", "inv.chassis_serial"],
    ["mmanufacturer", "inv.board_maker"], ["mmodel", "inv.board_model"], ["msn", "inv.board_serial"],
    ["bmanufacturer", "inv.bios_vendor"], ["bversion", "inv.bios_version"], ["bdate", "inv.bios_date", date],
  ],
};

// Columns of list sections: [field, label, format?, class?].
const COLUMNS = {
  cpus: [["name", "inv.name"], ["manufacturer", "inv.maker"], ["core", "inv.cores"], ["thread", "inv.threads"],
    ["speed", "inv.speed", mhz], ["arch", "inv.architecture"]],
  memories: [["numslots", "inv.slot"], ["capacity", "inv.capacity", megabytes], ["type", "inv.type"],
    ["speed", "inv.speed", (v) => `${v} MT/s`], ["description", "inv.form_factor"], ["manufacturer", "inv.maker"],
    ["model", "inv.part_number"], ["serialnumber", "inv.serial", null, "mono"], ["caption", "inv.location"]],
  storages: [["name", "inv.name", null, "mono"], ["type", "inv.type"], ["model", "inv.model"], ["manufacturer", "inv.maker"],
    ["disksize", "inv.size", megabytes], ["description", "inv.bus"], ["serial", "inv.serial", null, "mono"],
    ["firmware", "inv.firmware"]],
  batteries: [["name", "inv.name"], ["manufacturer", "inv.maker"], ["chemistry", "inv.chemistry"],
    ["capacity", "inv.design_capacity", (v) => `${number(v / 1000)} Wh`],
    ["real_capacity", "inv.full_capacity", (v, item) => `${number(v / 1000)} Wh` +
      (item.capacity ? ` (${Math.round((100 * v) / item.capacity)}%)` : "")],
    ["voltage", "inv.voltage", (v) => `${number(v / 1000)} V`], ["date", "inv.made", date],
    ["serial", "inv.serial", null, "mono"]],
  users: [["login", "inv.login", null, "mono"], ["domain", "inv.domain"]],
};

function present(value) {
  return value !== null && value !== undefined && value !== "";
}

function plain(value) {
  if (typeof value === "boolean") return yesNo(value);
  if (Array.isArray(value)) return value.map(plain).join(", ");
  if (value && typeof value === "object") {
    return Object.entries(value).map(([k, v]) => `${k}: ${plain(v)}`).join(", ");
  }
  return String(value);
}

/** Tell whether a stored section holds a collector's error instead of data. */
export function sectionError(data) {
  return data && !Array.isArray(data) && typeof data === "object" && typeof data.error === "string"
    && Object.keys(data).length === 1 ? data.error : null;
}

function problem(data) {
  if (data === undefined) return h("p", { class: "muted" }, t("inv.not_reported"));
  const error = sectionError(data);
  return error ? h("p", { class: "section-error" }, t("inv.collect_error", { error })) : null;
}

/** A key-value list of an object section (known fields first, then any others). */
export function factsList(section, data) {
  const trouble = problem(data);
  if (trouble) return trouble;
  const known = FACTS[section] || [];
  const rows = [];
  const used = new Set();
  for (const [key, title, format] of known) {
    used.add(key);
    if (!title || !present(data[key])) continue;
    rows.push([label(title), format ? format(data[key], data) : plain(data[key])]);
  }
  if (section === "operatingsystem" && !present(data.full_name) && present(data.name)) {
    rows.unshift([t("inv.name"), String(data.name)]);
  }
  for (const [key, value] of Object.entries(data)) {
    if (!used.has(key) && present(value)) rows.push([key, plain(value)]);
  }
  if (!rows.length) return h("p", { class: "muted" }, t("inv.nothing_reported"));
  return h("dl", { class: "facts facts-wide" },
    rows.map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]));
}

function table(name, columns, items, { rowAttrs = () => ({}), cls = "" } = {}) {
  const shown = columns.filter(([key]) => items.some((item) => present(item[key])));
  return h("div", { class: "table-wrap" }, h("table", { class: `table ${cls}`.trim(), "aria-label": name },
    h("thead", {}, h("tr", {}, shown.map(([, title]) => h("th", { scope: "col" }, label(title))))),
    h("tbody", {}, items.map((item) => h("tr", rowAttrs(item), shown.map(([key, , format, cls]) => h("td",
      { class: cls || null },
      present(item[key]) ? (format ? format(item[key], item) : plain(item[key])) : h("span", { class: "muted" }, "\u2014"))))))));
}

/** A table of a list section, or a short message when it is empty or failed. */
export function listTable(section, items, { emptyText = t("device.none_reported") } = {}) {
  const trouble = problem(items);
  if (trouble) return trouble;
  if (!Array.isArray(items) || !items.length) return h("p", { class: "muted" }, emptyText);
  if (section === "networks") return networksTable(items);
  if (section === "drives") return drivesTable(items);
  const columns = COLUMNS[section]
    || [...new Set(items.flatMap((i) => Object.keys(i)))].map((key) => [key, key]);
  return table(sectionLabel(section), columns, items);
}

/** One row per interface (GLPI lists one entry per address). */
function networksTable(items) {
  const byName = new Map();
  for (const item of items) {
    const name = item.description || item.name || "?";
    if (!byName.has(name)) byName.set(name, { ...item, v4: [], v6: [] });
    const nic = byName.get(name);
    if (item.ipaddress) nic.v4.push(item.ipmask ? `${item.ipaddress}/${prefix4(item.ipmask)}` : item.ipaddress);
    if (item.ipaddress6) nic.v6.push(item.ipmask6 ? `${item.ipaddress6}/${prefix6(item.ipmask6)}` : item.ipaddress6);
  }
  const nics = [...byName.values()].sort((a, b) => Number(a.virtualdev) - Number(b.virtualdev)
    || a.description.localeCompare(b.description));
  const lines = (list) => (list.length ? list.map((a) => h("div", {}, a)) : null);
  const columns = [
    ["description", "inv.interface", null, "mono strong"],
    ["status", "inv.status", (v) => h("span", { class: `status ${v === "up" ? "status-on" : "status-off"}` },
      v === "up" ? t("inv.up") : t("inv.down"))],
    ["type", "inv.type", (v, n) => (n.virtualdev ? t("inv.virtual", { type: v }) : v)],
    ["v4", "inv.ipv4", lines, "mono"],
    ["v6", "inv.ipv6", lines, "mono"],
    ["mac", "inv.mac", null, "mono"],
    ["speed", "inv.speed", (v) => (Number(v) >= 1000 ? `${number(v / 1000)} Gbit/s` : `${v} Mbit/s`)],
    ["ipgateway", "inv.gateway", null, "mono"],
    ["driver", "inv.driver"],
  ];
  for (const nic of nics) {
    if (!nic.v4.length) nic.v4 = null;
    if (!nic.v6.length) nic.v6 = null;
  }
  return table(t("inv.section.networks"), columns, nics);
}

function prefix4(mask) {
  return String(mask).split(".").reduce((n, part) => n + (Number(part) >>> 0).toString(2).split("1").length - 1, 0);
}

function prefix6(mask) {
  return String(mask).split(":").filter(Boolean)
    .reduce((n, part) => n + parseInt(part, 16).toString(2).split("1").length - 1, 0);
}

function drivesTable(items) {
  const columns = [
    ["type", "inv.mount_point", null, "mono strong"],
    ["volumn", "inv.device", null, "mono"],
    ["filesystem", "inv.file_system"],
    ["label", "inv.label"],
    ["total", "inv.size", megabytes],
    ["free", "inv.free", megabytes],
    ["used", "inv.used", (v) => h("span", { class: "usage usage-wide" }, bar(v),
      h("span", { class: "usage-value" }, percent(v)))],
  ];
  const rows = items.map((d) => ({ ...d,
    used: d.total > 0 && present(d.free) ? (100 * (d.total - d.free)) / d.total : null }));
  return table(t("inv.section.drives"), columns, rows);
}

/**
 * The installed software: a filter box, a count and a table of the first 200 matches
 * with "Show all" (a machine may hold thousands of packages).
 */
export function softwareList(items) {
  const trouble = problem(items);
  if (trouble) return trouble;
  const all = Array.isArray(items) ? [...items].sort((a, b) => String(a.name).localeCompare(String(b.name))) : [];
  if (!all.length) return emptyState("package", t("inv.no_software"), t("inv.no_software_text"));
  let showAll = false;
  const filter = h("input", { type: "search", placeholder: t("inv.filter_placeholder"),
    "aria-label": t("inv.filter_software"), maxlength: 200 });
  const count = h("span", { class: "muted", "aria-live": "polite" });
  const body = h("div");
  const more = h("button", { type: "button", class: "btn", hidden: true }, t("inv.show_all"));

  const columns = [
    ["name", "inv.name", (v, s) => [h("span", { class: "strong" }, v),
      s.comments ? h("div", { class: "cell-sub cell-clip", title: s.comments }, s.comments) : null]],
    ["version", "inv.version", null, "mono"],
    ["arch", "inv.arch"],
    ["publisher", "inv.publisher", null, "cell-clip-wide"],
    ["install_date", "inv.installed", date, "nowrap"],
    ["filesize", "inv.size", bytes, "nowrap num"],
  ];

  function render() {
    const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const matches = words.length ? all.filter((s) => {
      const hay = [s.name, s.version, s.publisher, s.comments, s.arch].filter(Boolean).join(" ").toLowerCase();
      return words.every((w) => hay.includes(w));
    }) : all;
    const shown = showAll ? matches : matches.slice(0, SOFTWARE_SHOWN);
    replace(count, words.length ? t("inv.packages_match", { n: matches.length, total: all.length })
      : tn("inv.packages", all.length),
    shown.length < matches.length ? ` \u00b7 ${t("inv.showing_first", { n: shown.length })}` : "");
    more.hidden = shown.length >= matches.length;
    replace(more, t("inv.show_all_n", { n: matches.length }));
    replace(body, matches.length
      ? table(t("inv.section.softwares"), columns, shown,
        { rowAttrs: (s) => ({ "data-software": s.name }), cls: "table-software" })
      : emptyState("search", t("inv.no_match"), t("inv.try_other_filter")));
  }

  let timer = 0;
  filter.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      showAll = false;
      render();
    }, 120);
  });
  more.addEventListener("click", () => {
    showAll = true;
    render();
  });
  render();
  return h("div", { class: "software" },
    h("div", { class: "toolbar toolbar-in-panel" },
      h("div", { class: "search search-wide" }, icon("search"), filter), count),
    body,
    h("div", { class: "software-foot" }, more));
}
