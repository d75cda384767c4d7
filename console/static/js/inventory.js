// Readable views of a device's inventory sections (GLPI's names, fields and units).

import { bar } from "./device_labels.js";
import { h, replace } from "./dom.js";
import { bytes, date, megabytes, number } from "./format.js";
import { icon } from "./icons.js";
import { emptyState } from "./ui.js";

const SOFTWARE_SHOWN = 200; // rows rendered before "Show all"

export const SECTION_LABELS = {
  operatingsystem: "Operating system",
  hardware: "Hardware",
  bios: "BIOS and identity",
  cpus: "Processors",
  memories: "Memory modules",
  storages: "Disks",
  drives: "Volumes",
  networks: "Network interfaces",
  batteries: "Batteries",
  users: "Logged-in users",
  softwares: "Software",
  versionclient: "Agent version",
};

/** Return the human name of a section ("softwares" -> "Software"). */
export function sectionLabel(section) {
  return SECTION_LABELS[section] || section;
}

const mhz = (v) => (Number(v) >= 1000 ? `${number(Number(v) / 1000)} GHz` : `${v} MHz`);
const yesNo = (v) => (v ? "Yes" : "No");

// Labels (and formats) of the fields of object sections, in display order.
const FACTS = {
  operatingsystem: [
    ["full_name", "Name"], ["version", "Version"], ["arch", "Architecture"],
    ["kernel_name", "Kernel", (v, s) => [v, s.kernel_version].filter(Boolean).join(" ")],
    ["kernel_version", null], ["name", null],
    ["boot_time", "Booted"],
    ["timezone", "Time zone", (v) => (v && typeof v === "object" ? `${v.name || ""} (UTC${v.offset || ""})`.trim() : v)],
    ["fqdn", "FQDN"], ["dns_domain", "DNS domain"], ["install_date", "Installed", date],
  ],
  hardware: [
    ["name", "Host name"], ["memory", "Memory", megabytes], ["swap", "Swap", megabytes],
    ["vmsystem", "Virtualization"], ["chassis_type", "Chassis"], ["uuid", "UUID"],
    ["defaultgateway", "Default gateway"], ["dns", "DNS servers", (v) => String(v).split("/").join(", ")],
    ["workgroup", "Domain"], ["oscomments", "Kernel build"],
  ],
  bios: [
    ["smanufacturer", "Manufacturer"], ["smodel", "Model"], ["ssn", "Serial number"],
    ["skunumber", "SKU"], ["assettag", "Asset tag"], ["enclosureserial", "Chassis serial"],
    ["mmanufacturer", "Board maker"], ["mmodel", "Board model"], ["msn", "Board serial"],
    ["bmanufacturer", "BIOS vendor"], ["bversion", "BIOS version"], ["bdate", "BIOS date", date],
  ],
};

// Columns of list sections: [field, label, format?, class?].
const COLUMNS = {
  cpus: [["name", "Name"], ["manufacturer", "Maker"], ["core", "Cores"], ["thread", "Threads"],
    ["speed", "Speed", mhz], ["arch", "Architecture"]],
  memories: [["numslots", "Slot"], ["capacity", "Capacity", megabytes], ["type", "Type"],
    ["speed", "Speed", (v) => `${v} MT/s`], ["description", "Form factor"], ["manufacturer", "Maker"],
    ["model", "Part number"], ["serialnumber", "Serial", null, "mono"], ["caption", "Location"]],
  storages: [["name", "Name", null, "mono"], ["type", "Type"], ["model", "Model"], ["manufacturer", "Maker"],
    ["disksize", "Size", megabytes], ["description", "Bus"], ["serial", "Serial", null, "mono"],
    ["firmware", "Firmware"]],
  batteries: [["name", "Name"], ["manufacturer", "Maker"], ["chemistry", "Chemistry"],
    ["capacity", "Design capacity", (v) => `${number(v / 1000)} Wh`],
    ["real_capacity", "Full capacity", (v, item) => `${number(v / 1000)} Wh` +
      (item.capacity ? ` (${Math.round((100 * v) / item.capacity)}%)` : "")],
    ["voltage", "Voltage", (v) => `${number(v / 1000)} V`], ["date", "Made", date],
    ["serial", "Serial", null, "mono"]],
  users: [["login", "Login", null, "mono"], ["domain", "Domain"]],
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
  if (data === undefined) return h("p", { class: "muted" }, "Not reported by the agent.");
  const error = sectionError(data);
  return error ? h("p", { class: "section-error" }, "Could not be collected: ", error) : null;
}

/** A key-value list of an object section (known fields first, then any others). */
export function factsList(section, data) {
  const trouble = problem(data);
  if (trouble) return trouble;
  const known = FACTS[section] || [];
  const rows = [];
  const used = new Set();
  for (const [key, label, format] of known) {
    used.add(key);
    if (!label || !present(data[key])) continue;
    rows.push([label, format ? format(data[key], data) : plain(data[key])]);
  }
  if (section === "operatingsystem" && !present(data.full_name) && present(data.name)) {
    rows.unshift(["Name", String(data.name)]);
  }
  for (const [key, value] of Object.entries(data)) {
    if (!used.has(key) && present(value)) rows.push([key, plain(value)]);
  }
  if (!rows.length) return h("p", { class: "muted" }, "Nothing reported.");
  return h("dl", { class: "facts facts-wide" },
    rows.map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]));
}

function table(label, columns, items, { rowAttrs = () => ({}), cls = "" } = {}) {
  const shown = columns.filter(([key]) => items.some((item) => present(item[key])));
  return h("div", { class: "table-wrap" }, h("table", { class: `table ${cls}`.trim(), "aria-label": label },
    h("thead", {}, h("tr", {}, shown.map(([, title]) => h("th", { scope: "col" }, title)))),
    h("tbody", {}, items.map((item) => h("tr", rowAttrs(item), shown.map(([key, , format, cls]) => h("td",
      { class: cls || null },
      present(item[key]) ? (format ? format(item[key], item) : plain(item[key])) : h("span", { class: "muted" }, "\u2014"))))))));
}

/** A table of a list section, or a short message when it is empty or failed. */
export function listTable(section, items, { emptyText = "None reported." } = {}) {
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
    ["description", "Interface", null, "mono strong"],
    ["status", "Status", (v) => h("span", { class: `status ${v === "up" ? "status-on" : "status-off"}` },
      v === "up" ? "Up" : "Down")],
    ["type", "Type", (v, n) => (n.virtualdev ? `${v} (virtual)` : v)],
    ["v4", "IPv4", lines, "mono"],
    ["v6", "IPv6", lines, "mono"],
    ["mac", "MAC", null, "mono"],
    ["speed", "Speed", (v) => (Number(v) >= 1000 ? `${number(v / 1000)} Gbit/s` : `${v} Mbit/s`)],
    ["ipgateway", "Gateway", null, "mono"],
    ["driver", "Driver"],
  ];
  for (const nic of nics) {
    if (!nic.v4.length) nic.v4 = null;
    if (!nic.v6.length) nic.v6 = null;
  }
  return table("Network interfaces", columns, nics);
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
    ["type", "Mount point", null, "mono strong"],
    ["volumn", "Device", null, "mono"],
    ["filesystem", "File system"],
    ["label", "Label"],
    ["total", "Size", megabytes],
    ["free", "Free", megabytes],
    ["used", "Used", (v) => h("span", { class: "usage usage-wide" }, bar(v), h("span", { class: "usage-value" }, `${Math.round(v)}%`))],
  ];
  const rows = items.map((d) => ({ ...d,
    used: d.total > 0 && present(d.free) ? (100 * (d.total - d.free)) / d.total : null }));
  return table("Volumes", columns, rows);
}

/**
 * The installed software: a filter box, a count and a table of the first 200 matches
 * with "Show all" (a machine may hold thousands of packages).
 */
export function softwareList(items) {
  const trouble = problem(items);
  if (trouble) return trouble;
  const all = Array.isArray(items) ? [...items].sort((a, b) => String(a.name).localeCompare(String(b.name))) : [];
  if (!all.length) return emptyState("package", "No software reported", "The agent lists packages from dpkg or rpm.");
  let showAll = false;
  const filter = h("input", { type: "search", placeholder: "Filter by name, version, publisher or description",
    "aria-label": "Filter software", maxlength: 200 });
  const count = h("span", { class: "muted", "aria-live": "polite" });
  const body = h("div");
  const more = h("button", { type: "button", class: "btn", hidden: true }, "Show all");

  const columns = [
    ["name", "Name", (v, s) => [h("span", { class: "strong" }, v),
      s.comments ? h("div", { class: "cell-sub cell-clip", title: s.comments }, s.comments) : null]],
    ["version", "Version", null, "mono"],
    ["arch", "Arch"],
    ["publisher", "Publisher", null, "cell-clip-wide"],
    ["install_date", "Installed", date, "nowrap"],
    ["filesize", "Size", bytes, "nowrap num"],
  ];

  function render() {
    const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const matches = words.length ? all.filter((s) => {
      const hay = [s.name, s.version, s.publisher, s.comments, s.arch].filter(Boolean).join(" ").toLowerCase();
      return words.every((w) => hay.includes(w));
    }) : all;
    const shown = showAll ? matches : matches.slice(0, SOFTWARE_SHOWN);
    replace(count, words.length ? `${matches.length} of ${all.length} packages match` : `${all.length} packages`,
      shown.length < matches.length ? ` \u00b7 showing the first ${shown.length}` : "");
    more.hidden = shown.length >= matches.length;
    replace(more, `Show all ${matches.length}`);
    replace(body, matches.length
      ? table("Software", columns, shown, { rowAttrs: (s) => ({ "data-software": s.name }), cls: "table-software" })
      : emptyState("search", "No software matches", "Try another filter."));
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
