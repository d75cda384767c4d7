// Reports: the desk's dashboards. Each chart is drawn from a table the API returns; the
// same table shows under the chart (the text alternative) and downloads as CSV.

import { api } from "../api.js";
import { dataChart } from "../chart.js";
import { field, h, replace } from "../dom.js";
import { number } from "../format.js";
import { language, t } from "../i18n.js";
import { guarded } from "../notice.js";
import { categoryList } from "../tickets.js";
import { panel } from "../ui.js";

const BY = ["group", "category", "technician", "priority", "channel"];

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "\u2013";
  if (seconds < 60) return t("reports.unit.seconds", { n: number(Math.round(seconds)) });
  if (seconds < 3600) return t("reports.unit.minutes", { n: number(Math.round(seconds / 60)) });
  if (seconds < 48 * 3600) return t("reports.unit.hours", { n: number(Math.round(seconds / 360) / 10) });
  return t("reports.unit.days", { n: number(Math.round(seconds / 8640) / 10) });
}

const pct = (v) => (v === null || v === undefined ? "\u2013" : `${number(v)}%`);
const plain = (v) => (v === null || v === undefined ? "\u2013" : number(v));
const hoursAxis = (v) => duration(v);

function dayLabel(day) {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString(language(), { month: "short", day: "numeric", timeZone: "UTC" });
}

// What each chart draws from its table: kind, x column, series columns and a formatter.
const CHARTS = [
  { name: "volume", kind: "line", x: "day", series: ["created", "resolved", "backlog"], format: plain },
  { name: "times", kind: "bar", x: "label", by: true, format: hoursAxis,
    series: ["first_response_median_seconds", "first_response_p90_seconds", "resolution_median_seconds",
      "resolution_p90_seconds"] },
  { name: "sla", kind: "line", x: "day", series: ["first_response_percent", "resolution_percent"], format: pct, max: 100 },
  { name: "quality", kind: "line", x: "day", series: ["reopen_percent", "first_contact_percent"], format: pct, max: 100 },
  { name: "remote", kind: "bar", x: "tickets", series: ["resolution_median_seconds", "resolution_p90_seconds"],
    format: hoursAxis },
  { name: "satisfaction", kind: "line", x: "day", series: ["average"], format: plain, max: 5 },
  { name: "deflection", kind: "stacked", x: "day", series: ["not_filed", "filed"], format: plain },
];

function cellText(column, value) {
  if (column.endsWith("_seconds")) return duration(value);
  if (column.endsWith("_percent")) return pct(value);
  if (column === "day") return value;
  if (column === "tickets") return t(`reports.value.${value}`);
  if (typeof value === "number") return number(value);
  return value === null || value === "" ? t("reports.none") : String(value);
}

function xLabel(spec, data, row) {
  const value = row[data.columns.indexOf(spec.x)];
  if (spec.x === "day") return dayLabel(value);
  if (spec.x === "tickets") return t(`reports.value.${value}`);
  if (spec.x === "label") {
    const key = row[0];
    if (data.by === "channel") return t(`reports.channel.${key}`);
    return value || t("reports.none");
  }
  return String(value);
}

function dataTable(data, caption) {
  const visible = data.columns.filter((c) => c !== "label" || data.by);
  return h("div", { class: "table-wrap" }, h("table", { class: "table report-table" },
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, visible.map((c) => h("th", { scope: "col" }, t(`reports.col.${c}`))))),
    h("tbody", {}, data.rows.map((row) => h("tr", {}, visible.map((c) => {
      const i = data.columns.indexOf(c);
      const text = c === data.by && data.by === "channel" ? t(`reports.channel.${row[i]}`) : cellText(c, row[i]);
      return h("td", {}, text);
    }))))));
}

function chartPanel(spec, filters) {
  const title = t(`reports.chart.${spec.name}`);
  const body = h("div", { class: "report-body" });
  const tableHost = h("div", { class: "report-table-host", hidden: true });
  const toggle = h("button", { type: "button", class: "btn btn-small", "aria-expanded": "false" }, t("reports.show_table"));
  toggle.addEventListener("click", () => {
    tableHost.hidden = !tableHost.hidden;
    toggle.setAttribute("aria-expanded", String(!tableHost.hidden));
    toggle.textContent = t(tableHost.hidden ? "reports.show_table" : "reports.hide_table");
  });
  const csv = h("a", { class: "btn btn-small", download: "" }, t("reports.download_csv"));
  let by = "group";
  const bySelect = spec.by ? h("select", { name: "by" },
    BY.map((b) => h("option", { value: b, selected: b === by }, t(`reports.by.${b}`)))) : null;
  const actions = h("div", { class: "report-actions" },
    bySelect ? field(t("reports.by"), bySelect) : null, toggle, csv);
  const el = panel(title, h("div", { class: "stack" },
    h("p", { class: "hint" }, t(`reports.chart.${spec.name}.hint`)), body, tableHost, actions),
  { cls: `report-panel report-${spec.name}` });
  el.dataset.chart = spec.name;

  async function load() {
    const query = { ...filters() };
    if (spec.by) query.by = by;
    const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== "" && v !== null));
    csv.href = `/api/v1/reports/charts/${spec.name}.csv?${params}`;
    const data = await guarded(() => api.get(`/api/v1/reports/charts/${spec.name}`, query));
    if (!data) return;
    const series = spec.series.map((c, i) => ({ label: t(`reports.col.${c}`), cls: `series-${i}`,
      values: data.rows.map((r) => r[data.columns.indexOf(c)]) }));
    const chart = dataChart({ kind: spec.kind, label: t("reports.chart_label", { title, rows: data.rows.length }),
      categories: data.rows.map((r) => xLabel(spec, data, r)), series, format: spec.format,
      max: spec.max ?? null, empty: t("reports.no_data") });
    replace(body, chart.el);
    replace(tableHost, data.rows.length ? dataTable(data, title) : h("p", { class: "muted" }, t("reports.no_data")));
    el.dataset.loaded = "true";
  }
  if (bySelect) {
    bySelect.addEventListener("change", () => {
      by = bySelect.value;
      load();
    });
  }
  return { el, load };
}

export async function reportsView(host) {
  const scope = await guarded(() => api.get("/api/v1/reports/scope"));
  if (!scope) return;
  const categories = (await guarded(categoryList)) || [];
  const end = scope.today;
  const startDate = new Date(`${end}T00:00:00Z`);
  startDate.setUTCDate(startDate.getUTCDate() - 29);
  const start = h("input", { type: "date", name: "start", value: startDate.toISOString().slice(0, 10), required: true });
  const endInput = h("input", { type: "date", name: "end", value: end, required: true });
  const group = h("select", { name: "group_id" },
    h("option", { value: "" }, scope.all_groups ? t("reports.all_groups") : t("reports.my_groups")),
    scope.groups.map((g) => h("option", { value: String(g.id) }, g.name)));
  const category = h("select", { name: "category_id" }, h("option", { value: "" }, t("reports.all_categories")),
    categories.map((c) => h("option", { value: String(c.id) }, c.label)));
  const filters = () => ({ start: start.value, end: endInput.value, group_id: group.value, category_id: category.value });
  const form = h("form", { class: "report-filters", "aria-label": t("reports.filters") },
    field(t("reports.start"), start), field(t("reports.end"), endInput),
    field(t("reports.group"), group), field(t("reports.category"), category));
  const panels = CHARTS.map((spec) => chartPanel(spec, filters));
  const reload = () => Promise.all(panels.map((p) => p.load()));
  form.addEventListener("change", () => {
    if (start.value && endInput.value) reload();
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  replace(host, h("div", { class: "stack reports" },
    h("p", { class: "hint" }, t("reports.intro", { zone: scope.time_zone })),
    form, h("div", { class: "report-grid" }, panels.map((p) => p.el))));
  await reload();
}
