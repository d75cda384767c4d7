// Writing a knowledge-base article (staff): Markdown on the left, the preview the server
// renders (sanitized, exactly as readers will see it) on the right, updated as one types.

import { api } from "../api.js";
import { field, formValues, h, replace } from "../dom.js";
import { onSubmit as handleSubmit } from "../forms.js";
import { t } from "../i18n.js";
import { icon } from "../icons.js";
import { articleBody, categoryChoice, categoryTree, goWithNotice } from "../kb.js";
import { debounce } from "../live.js";
import { guarded } from "../notice.js";
import { parseTags } from "../tickets.js";
import { emptyState, panel } from "../ui.js";

/** Fill the editor; `params[0]` is "new" or the article id. */
export function kbEditView(root, { params, setTitle }) {
  const id = params[0] === "new" ? null : Number(params[0]);
  const preview = h("div", { class: "kb-preview", role: "region", "aria-live": "polite", "aria-label": t("kbe.preview") });
  let seq = 0;

  const refresh = debounce(async (markdown) => {
    const mine = ++seq;
    const data = await guarded(() => api.post("/api/v1/kb/preview", { body: markdown }));
    if (data && mine === seq && preview.isConnected) {
      replace(preview, data.html ? articleBody(data.html)
        : h("p", { class: "muted" }, t("kbe.preview_hint")));
    }
  }, 250);

  function form(article, categories) {
    const a = article || { title: "", summary: "", body: "", tags: [], visibility: "internal", status: "draft",
      category_id: null, review_date: null };
    const body = h("textarea", { name: "body", rows: 22, maxlength: 100000, class: "kb-source mono",
      placeholder: "## Symptoms\n\n## Cause\n\n## Fix\n\n1. First step" });
    body.value = a.body;
    body.addEventListener("input", () => refresh(body.value));
    const choice = (name, value, options) => h("select", { name },
      options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
    const el = h("form", { class: "stack", "aria-label": id ? t("route.kb_edit") : t("kb.new_article") },
      field(t("portal.title"), h("input", { name: "title", required: true, maxlength: 200, value: a.title })),
      field(t("kbe.summary"), h("input", { name: "summary", maxlength: 1000, value: a.summary }),
        t("kbe.summary_hint")),
      h("div", { class: "row-4" },
        field(t("ticket.category"), categoryChoice(categories, a.category_id)),
        field(t("kbe.visibility"), choice("visibility", a.visibility,
          [["internal", t("kbe.vis_internal")], ["public", t("kbe.vis_public")]])),
        field(t("ticket.status"), choice("status", a.status, [["draft", t("kb.status.draft")],
          ["published", t("kb.status.published")], ["archived", t("kb.status.archived")]])),
        field(t("kbe.review_by"), h("input", { name: "review_date", type: "date", value: a.review_date || "" }))),
      field(t("ticket.tags"), h("input", { name: "tags", value: a.tags.join(", "), placeholder: "vpn, remote" }),
        t("kbe.tags_hint")),
      h("div", { class: "kb-editor" },
        h("div", { class: "field" }, h("label", { for: "kb-source" }, t("kbe.body")), body),
        h("div", { class: "field" }, h("span", { class: "field-label" }, t("kbe.preview")), preview)),
      h("div", { class: "form-actions" },
        h("a", { class: "btn", href: id ? `#/kb/articles/${id}` : "#/kb" }, t("common.cancel")),
        h("button", { type: "submit", class: "btn btn-primary" }, icon("check"), id ? t("kbe.save_version") : t("kbe.create"))));
    body.id = "kb-source";
    handleSubmit(el, async () => {
      const v = formValues(el);
      const values = { title: v.title, summary: v.summary, body: body.value, visibility: v.visibility,
        status: v.status, tags: parseTags(v.tags), category_id: v.category_id ? Number(v.category_id) : null,
        review_date: v.review_date || null };
      let saved;
      if (id) {
        const changes = {};
        for (const [key, value] of Object.entries(values)) {
          if (JSON.stringify(value) !== JSON.stringify(article[key])) changes[key] = value;
        }
        if (!Object.keys(changes).length) {
          location.hash = `#/kb/articles/${id}`;
          return;
        }
        saved = await api.patch(`/api/v1/kb/articles/${id}`, changes);
      } else {
        saved = await api.post("/api/v1/kb/articles", values);
      }
      goWithNotice(`#/kb/articles/${saved.id}`, id ? t("kbe.saved", { n: saved.version }) : t("kbe.created"));
    });
    refresh(a.body);
    return el;
  }

  setTitle(id ? t("route.kb_edit") : t("kb.new_article"));
  replace(root, h("p", { class: "muted" }, t("common.loading")));
  (async () => {
    const loaded = await guarded(async () => [await categoryTree(), id ? await api.get(`/api/v1/kb/articles/${id}`) : null]);
    if (!root.isConnected) return;
    if (!loaded) {
      replace(root, panel(null, emptyState("search", t("kbe.cannot_edit"), t("kbe.may_not_exist"),
        h("a", { class: "btn", href: "#/kb" }, t("kba.back")))));
      return;
    }
    const [categories, article] = loaded;
    if (article) setTitle(t("kbe.edit_title", { title: article.title }));
    const f = form(article, categories);
    replace(root, h("div", { class: "ticket-nav" },
      h("a", { class: "back-link", href: id ? `#/kb/articles/${id}` : "#/kb" }, icon("back"),
        id ? t("route.kb_article") : t("nav.kb"))), panel(null, f));
    f.elements.title.focus();
  })();
}
