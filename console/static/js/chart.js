// A line chart of CPU, memory and disk percentages over time, drawn as SVG with DOM calls.

import { h, replace } from "./dom.js";
import { dateTime, percent, time } from "./format.js";
import { language, t } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
const HEIGHT = 190;
const PAD = { left: 40, right: 12, top: 10, bottom: 24 };
const GAP_MS = 5 * 60 * 1000; // samples come every minute; a longer gap is an outage
const HOUR = 3600 * 1000;

export const SERIES = [
  { key: "cpu_percent", label: () => t("devices.col.cpu"), cls: "series-cpu" },
  { key: "memory_percent", label: () => t("devices.col.memory"), cls: "series-memory" },
  { key: "disk_percent", label: () => t("devices.col.disk"), cls: "series-disk" },
];

function svg(tag, attrs = {}) {
  const el = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return el;
}

function text(x, y, label, cls) {
  const el = svg("text", { x, y, class: cls });
  el.textContent = label;
  return el;
}

/** Split samples into runs without outages: [[{t, v}], ...]. */
function runs(points, key) {
  const out = [];
  let run = [];
  let last = -Infinity;
  for (const p of points) {
    const value = p[key];
    if (value === null || value === undefined) continue;
    if (p.t - last > GAP_MS && run.length) {
      out.push(run);
      run = [];
    }
    run.push({ t: p.t, v: Math.max(0, Math.min(100, value)) });
    last = p.t;
  }
  if (run.length) out.push(run);
  return out;
}

/**
 * Return a chart of the last `hours` hours: `{el, update(items)}` where items are the
 * API's samples `{at, cpu_percent, memory_percent, disk_percent}`, oldest first.
 */
export function metricsChart({ hours = 24, label = t("chart.label") } = {}) {
  let points = [];
  let end = Date.now();
  let width = 0;

  const readout = h("span", { class: "chart-readout", "aria-live": "off" });
  const legend = h("div", { class: "chart-legend" },
    SERIES.map((s) => h("span", { class: `legend-item ${s.cls}` }, h("span", { class: "legend-swatch" }), s.label())),
    readout);
  const canvas = svg("svg", { class: "chart-svg", role: "img", "aria-label": label, height: HEIGHT });
  const holder = h("div", { class: "chart-plot" }, canvas);
  const el = h("div", { class: "chart" }, legend, holder);

  const x = (ms) => PAD.left + ((ms - (end - hours * HOUR)) / (hours * HOUR)) * (width - PAD.left - PAD.right);
  const y = (v) => PAD.top + (1 - v / 100) * (HEIGHT - PAD.top - PAD.bottom);

  function draw() {
    width = Math.floor(holder.clientWidth);
    if (width < 100) return; // hidden (another tab): drawn when it shows
    canvas.setAttribute("width", width);
    canvas.setAttribute("viewBox", `0 0 ${width} ${HEIGHT}`);
    canvas.replaceChildren();
    const grid = svg("g", { class: "chart-grid" });
    for (const v of [0, 25, 50, 75, 100]) {
      grid.append(svg("line", { x1: PAD.left, x2: width - PAD.right, y1: y(v), y2: y(v) }));
      if (v % 50 === 0) grid.append(text(PAD.left - 8, y(v) + 4, `${v}%`, "chart-label chart-label-y"));
    }
    // Ticks on whole local hours that are multiples of 6 (00:00, 06:00, 12:00, 18:00).
    const start = end - hours * HOUR;
    const first = new Date(start);
    first.setMinutes(0, 0, 0);
    for (let ms = first.getTime() + HOUR; ms < end; ms += HOUR) {
      const d = new Date(ms);
      if (d.getHours() % 6 !== 0) continue;
      grid.append(svg("line", { class: "chart-tick", x1: x(ms), x2: x(ms), y1: PAD.top, y2: HEIGHT - PAD.bottom }));
      const label = d.getHours() === 0
        ? d.toLocaleDateString(language(), { month: "short", day: "numeric" }) : time(d.toISOString());
      grid.append(text(x(ms), HEIGHT - 6, label, "chart-label chart-label-x"));
    }
    canvas.append(grid);
    for (const s of SERIES) {
      const g = svg("g", { class: `chart-series ${s.cls}` });
      for (const run of runs(points, s.key)) {
        if (run.length === 1) {
          g.append(svg("circle", { cx: x(run[0].t), cy: y(run[0].v), r: 2.5 }));
        } else {
          const d = run.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)} ${y(p.v).toFixed(1)}`).join("");
          g.append(svg("path", { d }));
        }
      }
      canvas.append(g);
    }
    if (!points.length) {
      canvas.append(text((PAD.left + width - PAD.right) / 2, HEIGHT / 2, t("chart.no_samples"),
        "chart-empty"));
    }
    const cursor = svg("line", { class: "chart-cursor", x1: 0, x2: 0, y1: PAD.top, y2: HEIGHT - PAD.bottom,
      visibility: "hidden" });
    canvas.append(cursor);
  }

  function nearest(t) {
    let best = null;
    for (const p of points) if (!best || Math.abs(p.t - t) < Math.abs(best.t - t)) best = p;
    return best && Math.abs(best.t - t) <= GAP_MS ? best : null;
  }

  canvas.addEventListener("mousemove", (event) => {
    if (!points.length || width < 100) return;
    const box = canvas.getBoundingClientRect();
    const px = event.clientX - box.left;
    const t = end - hours * HOUR + ((px - PAD.left) / (width - PAD.left - PAD.right)) * hours * HOUR;
    const p = nearest(t);
    const cursor = canvas.querySelector(".chart-cursor");
    if (!p) {
      cursor.setAttribute("visibility", "hidden");
      replace(readout);
      return;
    }
    cursor.setAttribute("x1", x(p.t));
    cursor.setAttribute("x2", x(p.t));
    cursor.setAttribute("visibility", "visible");
    replace(readout, `${dateTime(p.at)} \u2014 `,
      SERIES.map((s) => `${s.label()} ${percent(p[s.key])}`).join(" \u00b7 "));
  });
  canvas.addEventListener("mouseleave", () => {
    canvas.querySelector(".chart-cursor")?.setAttribute("visibility", "hidden");
    replace(readout);
  });

  new ResizeObserver(() => {
    if (Math.floor(holder.clientWidth) !== width) draw();
  }).observe(holder);

  return {
    el,
    /** Replace the samples and redraw, with the time axis ending now. */
    update(items) {
      points = items.map((p) => ({ ...p, t: new Date(p.at).getTime() }));
      end = Date.now();
      draw();
    },
  };
}

// ---------- Charts of a table: lines, grouped bars, stacked bars ----------

const DATA_HEIGHT = 220;
const DATA_PAD = { left: 48, right: 12, top: 12, bottom: 40 };

/** Return a "nice" top of the axis (1, 2 or 5 times a power of ten) at or above `v`. */
function niceTop(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * A chart of table data drawn as SVG: `kind` "line", "bar" (grouped) or "stacked".
 * `categories` are the x labels; `series` [{label, values, cls}] the numbers (null: none).
 * `format(v)` writes a value for the axis and the readout; `max` fixes the axis top.
 * The SVG's text alternative summarises the chart; the caller shows the numbers as a
 * table too (the dashboards' table toggle). Returns {el}.
 */
export function dataChart({ kind = "line", label, categories, series, format = String, max = null,
  empty = t("chart.no_data") }) {
  const readout = h("span", { class: "chart-readout", "aria-live": "off" });
  const legend = h("div", { class: "chart-legend" },
    series.map((s, i) => h("span", { class: `legend-item ${s.cls || `series-${i}`}` },
      h("span", { class: "legend-swatch" }), s.label)),
    readout);
  const canvas = svg("svg", { class: "chart-svg", role: "img", "aria-label": label, height: DATA_HEIGHT });
  const holder = h("div", { class: "chart-plot" }, canvas);
  const el = h("div", { class: "chart", "data-kind": kind }, legend, holder);
  // All zeros (nothing filed, nothing resolved) reads as "no data" too.
  const hasData = series.some((s) => s.values.some((v) => v !== null && v !== undefined && v !== 0));
  let width = 0;

  function top() {
    if (max !== null) return max;
    let m = 0;
    if (kind === "stacked") {
      categories.forEach((_, i) => {
        m = Math.max(m, series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
      });
    } else {
      for (const s of series) for (const v of s.values) if (v !== null && v !== undefined) m = Math.max(m, v);
    }
    return niceTop(m);
  }

  function draw() {
    width = Math.floor(holder.clientWidth);
    if (width < 100) return;
    canvas.setAttribute("width", width);
    canvas.setAttribute("viewBox", `0 0 ${width} ${DATA_HEIGHT}`);
    canvas.replaceChildren();
    const plotW = width - DATA_PAD.left - DATA_PAD.right;
    const plotH = DATA_HEIGHT - DATA_PAD.top - DATA_PAD.bottom;
    const yTop = top();
    const y = (v) => DATA_PAD.top + (1 - v / yTop) * plotH;
    const n = Math.max(1, categories.length);
    const slot = plotW / n;
    const cx = (i) => DATA_PAD.left + slot * (i + 0.5);
    const grid = svg("g", { class: "chart-grid" });
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      grid.append(svg("line", { x1: DATA_PAD.left, x2: width - DATA_PAD.right, y1: y(f * yTop), y2: y(f * yTop) }));
      if (f * 2 === Math.round(f * 2)) {
        grid.append(text(DATA_PAD.left - 6, y(f * yTop) + 4, format(f * yTop), "chart-label chart-label-y"));
      }
    }
    // At most about eight x labels, evenly spaced.
    const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(plotW / 70))));
    categories.forEach((c, i) => {
      if (i % every === 0) grid.append(text(cx(i), DATA_HEIGHT - DATA_PAD.bottom + 16, c, "chart-label chart-label-x"));
    });
    canvas.append(grid);
    if (!hasData) {
      canvas.append(text(DATA_PAD.left + plotW / 2, DATA_HEIGHT / 2, empty, "chart-empty"));
      return;
    }
    if (kind === "line") {
      series.forEach((s, si) => {
        const g = svg("g", { class: `chart-series ${s.cls || `series-${si}`}` });
        let d = "";
        let pen = false;
        s.values.forEach((v, i) => {
          if (v === null || v === undefined) {
            pen = false;
            return;
          }
          d += `${pen ? "L" : "M"}${cx(i).toFixed(1)} ${y(v).toFixed(1)}`;
          pen = true;
          if (n <= 40) g.append(svg("circle", { cx: cx(i), cy: y(v), r: 2.5 }));
        });
        if (d) g.append(svg("path", { d }));
        canvas.append(g);
      });
    } else {
      const inner = slot * 0.7;
      categories.forEach((_, i) => {
        let base = 0;
        series.forEach((s, si) => {
          const v = s.values[i];
          if (v === null || v === undefined) return;
          const cls = `chart-bar ${s.cls || `series-${si}`}`;
          if (kind === "stacked") {
            canvas.append(svg("rect", { class: cls, x: cx(i) - inner / 2, width: Math.max(1, inner),
              y: y(base + v), height: Math.max(0, y(base) - y(base + v)) }));
            base += v;
          } else {
            const w = inner / series.length;
            canvas.append(svg("rect", { class: cls, x: cx(i) - inner / 2 + si * w, width: Math.max(1, w - 1),
              y: y(v), height: Math.max(0, y(0) - y(v)) }));
          }
        });
      });
    }
  }

  canvas.addEventListener("mousemove", (event) => {
    if (!hasData || width < 100) return;
    const box = canvas.getBoundingClientRect();
    const slot = (width - DATA_PAD.left - DATA_PAD.right) / Math.max(1, categories.length);
    const i = Math.floor((event.clientX - box.left - DATA_PAD.left) / slot);
    if (i < 0 || i >= categories.length) {
      replace(readout);
      return;
    }
    replace(readout, `${categories[i]} \u2014 `, series.map((s) => {
      const v = s.values[i];
      return `${s.label} ${v === null || v === undefined ? "\u2013" : format(v)}`;
    }).join(" \u00b7 "));
  });
  canvas.addEventListener("mouseleave", () => replace(readout));
  new ResizeObserver(() => {
    if (Math.floor(holder.clientWidth) !== width) draw();
  }).observe(holder);
  return { el };
}
