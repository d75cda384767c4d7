// Line icons as SVG elements (built with DOM calls; no markup strings, no external files).

const NS = "http://www.w3.org/2000/svg";

const PATHS = {
  inbox: ["M3 13h4l2 3h6l2-3h4", "M5 5h14l2 8v6H3v-6z"],
  ticket: ["M4 7h16v3a2 2 0 0 0 0 4v3H4v-3a2 2 0 0 0 0-4z", "M14 7v10"],
  users: ["M16 19v-1a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v1", "M9 10a3 3 0 1 0 0-6 3 3 0 0 0 0 6",
    "M22 19v-1a4 4 0 0 0-3-3.9", "M16 4.1a3 3 0 0 1 0 5.8"],
  group: ["M4 6h16v12H4z", "M4 10h16", "M9 14h6"],
  user: ["M20 20v-1a5 5 0 0 0-5-5H9a5 5 0 0 0-5 5v1", "M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8"],
  logout: ["M15 4h4v16h-4", "M10 8l-4 4 4 4", "M6 12h10"],
  lock: ["M6 11h12v9H6z", "M8 11V8a4 4 0 0 1 8 0v3"],
  key: ["M14 10a4 4 0 1 0-3.5 4L8 16.5V19h2.5v-2h2v-2", "M16 8h.01"],
  plus: ["M12 5v14", "M5 12h14"],
  search: ["M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14", "M20 20l-4-4"],
  copy: ["M9 9h11v11H9z", "M5 15H4V4h11v1"],
  trash: ["M4 7h16", "M10 11v6", "M14 11v6", "M6 7l1 13h10l1-13", "M9 7V4h6v3"],
  shield: ["M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z"],
};

/** Return an SVG icon element by name. */
export function icon(name, cls = "icon") {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const d of PATHS[name] || []) {
    const path = document.createElementNS(NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}
