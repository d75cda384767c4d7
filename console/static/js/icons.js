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
  monitor: ["M3 4h18v12H3z", "M8 20h8", "M12 16v4"],
  enroll: ["M12 3v10", "M8 9l4 4 4-4", "M4 15v5h16v-5"],
  ban: ["M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18", "M5.6 5.6l12.8 12.8"],
  back: ["M15 6l-6 6 6 6"],
  package: ["M12 3l8 4.5v9L12 21l-8-4.5v-9z", "M4 7.5l8 4.5 8-4.5", "M12 12v9"],
  history: ["M3 12a9 9 0 1 0 3-6.7L3 8", "M3 3v5h5", "M12 7v5l3 2"],
  chip: ["M7 7h10v10H7z", "M10 10h4v4h-4z", "M9 3v4", "M15 3v4", "M9 17v4", "M15 17v4",
    "M3 9h4", "M3 15h4", "M17 9h4", "M17 15h4"],
  network: ["M12 3v6", "M5 21v-4h14v4", "M12 13v4", "M9 9h6v4H9z"],
  pencil: ["M4 20h4L19 9l-4-4L4 16z", "M13 7l4 4"],
  paperclip: ["M20 11.5l-8 8a5 5 0 0 1-7-7l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7L9.7 17.2a1.7 1.7 0 0 1-2.4-2.4L15 7"],
  check: ["M5 12.5l4.5 4.5L19 7.5"],
  send: ["M21 3L10 14", "M21 3l-7 18-4-7-7-4z"],
  keyboard: ["M3 6h18v12H3z", "M7 10h.01", "M11 10h.01", "M15 10h.01", "M8 14h8"],
  reopen: ["M4 12a8 8 0 1 0 2.3-5.7L4 8.6", "M4 4v4.6h4.6"],
  user_plus: ["M15 20v-1a5 5 0 0 0-5-5H7a5 5 0 0 0-5 5v1", "M8.5 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8",
    "M19 8v6", "M16 11h6"],
  link: ["M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1", "M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1"],
  x: ["M6 6l12 12", "M18 6L6 18"],
  play: ["M7 5l12 7-12 7z"],
  code: ["M8 7l-5 5 5 5", "M16 7l5 5-5 5", "M14 4l-4 16"],
  pause: ["M8 5v14", "M16 5v14"],
  book: ["M4 5a2 2 0 0 1 2-2h14v16H6a2 2 0 0 0-2 2z", "M4 21V5", "M8 7h8"],
  menu: ["M4 6h16", "M4 12h16", "M4 18h16"],
  camera: ["M4 8h3l2-3h6l2 3h3v11H4z", "M12 16a3 3 0 1 0 0-6 3 3 0 0 0 0 6"],
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
