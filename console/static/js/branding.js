// The product's branding: name, logo, accent colour, the portal's welcome text. Loaded
// before the first page (public: the login page shows it) and applied as CSS custom
// properties; the logo is only ever an <img> (an SVG cannot run script there).

import { request } from "./api.js";
import { h } from "./dom.js";

const DEFAULT = { product_name: "Deskmate", accent_color: "#2563eb", welcome_text: "", logo_url: null };
const DEFAULT_LOGO = "/static/img/logo.svg";
let current = { ...DEFAULT };
const marks = new Set();

function mix(hex, other, share) {
  const a = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const b = [1, 3, 5].map((i) => parseInt(other.slice(i, i + 2), 16));
  return `#${a.map((v, i) => Math.round(v * (1 - share) + b[i] * share).toString(16).padStart(2, "0")).join("")}`;
}

/** Return the branding in effect. */
export function branding() {
  return current;
}

/** Return the product name users see. */
export function productName() {
  return current.product_name;
}

/** Apply `b` (an answer of GET /api/v1/branding) to the page: colours, names, logos. */
export function applyBranding(b) {
  current = { ...DEFAULT, ...b };
  const root = document.documentElement.style;
  const accent = current.accent_color;
  // CSSOM, not a style attribute: the CSP allows it. The server checked the contrast.
  root.setProperty("--accent", accent);
  root.setProperty("--accent-hover", mix(accent, "#000000", 0.12));
  root.setProperty("--accent-soft", mix(accent, "#ffffff", 0.92));
  const [r, g, bl] = [1, 3, 5].map((i) => parseInt(accent.slice(i, i + 2), 16));
  root.setProperty("--accent-ring", `rgba(${r}, ${g}, ${bl}, 0.35)`);
  for (const mark of marks) {
    if (!mark.isConnected) {
      marks.delete(mark);
      continue;
    }
    mark.querySelector("img").src = current.logo_url || DEFAULT_LOGO;
    mark.querySelector(".brand-name").textContent = current.product_name;
  }
}

/** Load the branding from the server (public) and apply it; the defaults stay on failure. */
export async function loadBranding() {
  try {
    applyBranding(await request("GET", "/api/v1/branding", { probe: true }));
  } catch {
    applyBranding(DEFAULT);
  }
}

/** Return the logo and product name, kept up to date when an admin changes them. */
export function brandMark(size) {
  const mark = h("span", { class: "brand-mark" },
    h("img", { src: current.logo_url || DEFAULT_LOGO, alt: "", height: size, class: "brand-logo" }),
    h("span", { class: "brand-name" }, current.product_name));
  marks.add(mark);
  return mark;
}
