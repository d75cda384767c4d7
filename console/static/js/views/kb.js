// Knowledge base: browse by category and tag, or search with highlighted snippets.
// Staff also filter by status and start new articles; requesters see public articles only
// (the server decides what anyone may see).

import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { ago, dateTime } from "../format.js";
import { t } from "../i18n.js";
import { icon } from "../icons.js";
import { articleBadges, categoryTree, snippetNodes } from "../kb.js";
import { debounce } from "../live.js";
import { guarded } from "../notice.js";
import { isStaff } from "../session.js";
import { emptyState, panel } from "../ui.js";

const PAGE = 30;

/** Fill the knowledge-base browser. */
export function kbView(root, { user }) {
  const staff = isStaff(user);
  const state = { q: "", category: null, tag: null, status: "" };
  let categories = [];
  let cursor = null;
  let shown = [];
  let seq = 0; // answers to older requests are dropped

  const search = h("input", { type: "search", name: "q", placeholder: t("kb.search_placeholder"),
    "aria-label": t("kb.search"), autocomplete: "off", maxlength: 200 });
  const statusFilter = staff ? h("select", { name: "status", "aria-label": t("ticket.status") },
    h("option", { value: "" }, t("users.any_status")), h("option", { value: "published" }, t("kb.status.published")),
    h("option", { value: "draft" }, t("kb.drafts")), h("option", { value: "archived" }, t("kb.status.archived"))) : null;
  const tree = h("ul", { class: "list kb-tree", "aria-label": t("kb.categories") });
  const tags = h("div", { class: "chips kb-tags", "aria-label": t("ticket.tags") });
  const results = h("ol", { class: "kb-results", "aria-label": t("kb.articles") });
  const heading = h("h2", { class: "panel-title" }, t("kb.articles"));
  const more = h("button", { type: "button", class: "btn btn-small", hidden: true, onclick: () => load(true) },
    t("common.load_more"));

  function catName(id) {
    const c = categories.find((x) => x.id === id);
    return c ? c.path : null;
  }

  function renderTree() {
    const entry = (id, label, depth) => h("li", {}, h("button", { type: "button",
      class: `list-link kb-cat depth-${Math.min(depth, 4)}`, "aria-current": state.category === id ? "true" : null,
      onclick: () => { state.category = id; renderTree(); load(false); } }, label));
    replace(tree, entry(null, t("kb.all_categories"), 0), categories.map((c) => entry(c.id, c.name, c.depth)));
  }

  function renderTags() {
    const seen = new Set(shown.flatMap((a) => a.tags));
    if (state.tag) seen.add(state.tag);
    replace(tags, [...seen].sort().map((tag) => h("button", { type: "button",
      class: `chip kb-tag${state.tag === tag ? " chip-on" : ""}`, "aria-pressed": state.tag === tag ? "true" : "false",
      onclick: () => { state.tag = state.tag === tag ? null : tag; load(false); } }, `#${tag}`)),
    seen.size ? null : h("span", { class: "muted small" }, t("kb.tags_hint")));
  }

  function row(article, snippet) {
    const cat = catName(article.category_id);
    return h("li", { class: "kb-result", "data-id": article.id },
      h("a", { class: "kb-result-title", href: `#/kb/articles/${article.id}` }, article.title),
      staff ? articleBadges(article) : null,
      snippet !== undefined ? h("p", { class: "kb-snippet" }, snippetNodes(snippet))
        : article.summary ? h("p", { class: "kb-snippet" }, article.summary) : null,
      h("p", { class: "small muted" }, cat ? `${cat} \u00b7 ` : "",
        h("span", { title: dateTime(article.updated_at) }, t("ticket.updated_ago", { ago: ago(article.updated_at) })),
        article.tags.length ? ` \u00b7 ${article.tags.map((tag) => `#${tag}`).join(" ")}` : ""));
  }

  async function load(append) {
    const mine = ++seq;
    const query = { limit: PAGE, category_id: state.category, tag: state.tag, status: state.status || null,
      cursor: append ? cursor : null };
    const data = await guarded(() => (state.q
      ? api.get("/api/v1/kb/search", { q: state.q, ...query })
      : api.get("/api/v1/kb/articles", query)));
    if (!data || mine !== seq || !root.isConnected) return;
    const items = state.q ? data.items.map((x) => ({ article: x.article, snippet: x.snippet }))
      : data.items.map((a) => ({ article: a }));
    shown = (append ? shown : []).concat(items.map((x) => x.article));
    cursor = data.next_cursor;
    replace(heading, state.q ? t("kb.results_for", { q: state.q }) : t("kb.articles"));
    const rows = items.map((x) => row(x.article, x.snippet));
    if (append) results.append(...rows);
    else if (rows.length) replace(results, rows);
    else replace(results, h("li", {}, emptyState("search", state.q ? t("kb.no_match") : t("kb.none"),
      state.q ? t("kb.no_match_text") : staff ? t("kb.none_staff") : t("kb.none_requester"))));
    more.hidden = !cursor;
    renderTags();
  }

  const typed = debounce(() => { state.q = search.value.trim(); load(false); }, 250);
  search.addEventListener("input", typed);
  if (statusFilter) statusFilter.addEventListener("change", () => { state.status = statusFilter.value; load(false); });

  root.append(h("div", { class: "toolbar" },
    h("div", { class: "search search-wide" }, icon("search"), search),
    statusFilter,
    h("div", { class: "toolbar-end inline" },
      h("a", { class: "btn", href: "#/kb/reading" }, icon("check"), t("route.kb_reading")),
      staff ? h("a", { class: "btn btn-primary", href: "#/kb/new" }, icon("plus"), t("kb.new_article")) : null)),
  h("div", { class: "kb-layout" },
    h("div", { class: "kb-side stack" },
      panel(t("kb.categories"), tree),
      panel(t("ticket.tags"), tags)),
    h("section", { class: "panel kb-main" },
      h("header", { class: "panel-head" }, heading),
      h("div", { class: "panel-body" }, results),
      h("footer", { class: "panel-foot" }, more))));
  replace(results, h("li", { class: "muted" }, t("common.loading")));
  (async () => {
    categories = (await guarded(categoryTree)) || [];
    if (!root.isConnected) return;
    renderTree();
    await load(false);
  })();
  search.focus();
}
