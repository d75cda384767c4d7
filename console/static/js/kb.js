// Knowledge-base pieces shared by its views and the portal: highlighted snippets, the
// server's sanitized article HTML, the category tree, and status/visibility badges.

import { api } from "./api.js";
import { h } from "./dom.js";
import { labels, t } from "./i18n.js";
import { showSuccess } from "./notice.js";

const MARK_START = "\u0002";
const MARK_END = "\u0003";

/** Return nodes for a search snippet: text, with the matched words in <mark> (never HTML). */
export function snippetNodes(snippet) {
  const out = [];
  let rest = String(snippet || "");
  while (rest) {
    const start = rest.indexOf(MARK_START);
    if (start < 0) {
      out.push(rest);
      break;
    }
    if (start > 0) out.push(rest.slice(0, start));
    const end = rest.indexOf(MARK_END, start + 1);
    const word = rest.slice(start + 1, end < 0 ? undefined : end);
    out.push(h("mark", {}, word));
    rest = end < 0 ? "" : rest.slice(end + 1);
  }
  return out;
}

// What the server's sanitizer (nh3) lets through; anything else here means a bug, so it
// is dropped rather than shown. The server is the security boundary; this is a second net.
const TAGS = new Set(["P", "BR", "HR", "H1", "H2", "H3", "H4", "H5", "H6", "BLOCKQUOTE", "PRE", "CODE",
  "EM", "STRONG", "DEL", "S", "SUB", "SUP", "KBD", "UL", "OL", "LI", "A", "IMG", "TABLE", "THEAD", "TBODY",
  "TR", "TH", "TD", "DETAILS", "SUMMARY"]);
const ATTRS = new Set(["href", "title", "src", "alt", "start", "rel"]);

const ATTACHMENT_PATH = /^\/api\/v1\/attachments\/\d{1,18}$/;

/**
 * Return a link's or image's URL as the browser will load it, or null when it is not
 * allowed: links to http(s) and mailto; images over https from elsewhere, or one of this
 * server's attachments — checked after the URL parser normalised it (dot segments, also
 * %2e%2e, backslashes), so "/api/v1/attachments/../kb" is not an attachment.
 */
function safeUrl(tagName, value) {
  let url;
  try {
    url = new URL(value, location.origin);
  } catch {
    return null;
  }
  // Links are absolute, as the server keeps them: a relative one would call this server.
  if (tagName === "A") {
    return /^\s*(https?:|mailto:)/i.test(value) && ["http:", "https:", "mailto:"].includes(url.protocol)
      ? url.href : null;
  }
  if (url.origin === location.origin) {
    return ATTACHMENT_PATH.test(url.pathname) && !url.search && !url.hash ? url.pathname : null;
  }
  return url.protocol === "https:" ? url.href : null;
}

function clean(node) {
  for (const child of [...node.children]) {
    if (!TAGS.has(child.tagName)) {
      child.remove();
      continue;
    }
    for (const attr of [...child.attributes]) {
      if (!ATTRS.has(attr.name)) child.removeAttribute(attr.name);
      else if ((attr.name === "href" && child.tagName === "A") || (attr.name === "src" && child.tagName === "IMG")) {
        const url = safeUrl(child.tagName, attr.value);
        if (url === null) child.removeAttribute(attr.name);
        else child.setAttribute(attr.name, url);
      } else if (attr.name === "href" || attr.name === "src") child.removeAttribute(attr.name);
    }
    clean(child);
  }
}

/** Return a <div class="kb-body"> holding the server-sanitized HTML of an article. */
export function articleBody(html) {
  // DOMParser builds an inert document: nothing in it runs or loads while it is parsed.
  const doc = new DOMParser().parseFromString(String(html || ""), "text/html");
  clean(doc.body);
  const el = h("div", { class: "kb-body" });
  for (const node of [...doc.body.childNodes]) el.append(document.importNode(node, true));
  for (const a of el.querySelectorAll("a")) {
    a.setAttribute("target", "_blank");
    a.setAttribute("rel", "noopener noreferrer nofollow");
  }
  return el;
}

/** Return the categories with a `path` label ("Network / VPN") and `depth`, tree-ordered. */
export async function categoryTree() {
  const items = (await api.get("/api/v1/kb/categories")).items;
  const children = new Map();
  for (const c of items) {
    const key = c.parent_id || 0;
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(c);
  }
  const out = [];
  const walk = (parent, depth, prefix) => {
    for (const c of (children.get(parent) || []).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = prefix ? `${prefix} / ${c.name}` : c.name;
      out.push({ ...c, depth, path });
      walk(c.id, depth + 1, path);
    }
  };
  walk(0, 0, "");
  return out;
}

/** Return a <select> of categories ("None" first). */
export function categoryChoice(categories, selected, { name = "category_id", none = t("kb.no_category") } = {}) {
  return h("select", { name },
    h("option", { value: "" }, none),
    // Retired categories are not offered, except the article's own (kept, marked retired).
    categories.filter((c) => c.active !== false || c.id === selected)
      .map((c) => h("option", { value: c.id, selected: c.id === selected },
        `${"\u2003".repeat(c.depth)}${c.active === false ? t("picker.retired", { name: c.name }) : c.name}`)));
}

export const STATUS_LABELS = labels("kb.status", ["draft", "published", "archived"]);

/** Badges for an article's status and visibility (staff views). */
export function articleBadges(article) {
  return h("span", { class: "chips" },
    h("span", { class: `badge kb-status-${article.status}` }, STATUS_LABELS[article.status] || article.status),
    h("span", { class: `badge kb-vis-${article.visibility}` },
      article.visibility === "public" ? t("kb.public") : t("attachments.internal")));
}

/** Go to `hash`, then show `text` (the router clears notices when it draws a page). */
export function goWithNotice(hash, text) {
  window.addEventListener("hashchange", () => showSuccess(text), { once: true });
  location.hash = hash;
}
