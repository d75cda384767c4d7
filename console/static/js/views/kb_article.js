// One knowledge-base article: the rendered (server-sanitized) body, "was this helpful?"
// with a comment, and acknowledging required reading. Staff also see its status, the
// tickets it is linked to, and can edit it, see its history, link it to or send it to a
// ticket, and make it required reading for a group.

import { api } from "../api.js";
import { allGroups } from "../directory.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { date, dateTime, number } from "../format.js";
import { t, tn } from "../i18n.js";
import { icon } from "../icons.js";
import { articleBadges, articleBody, categoryTree } from "../kb.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import { isStaff } from "../session.js";
import { emptyState, iconButton, openModal, panel } from "../ui.js";

/** Fill the article page; `params[0]` is the article id. */
export function kbArticleView(root, { user, params, setTitle }) {
  const id = Number(params[0]);
  const staff = isStaff(user);
  let article = null;
  let categories = [];
  let pending = null; // the caller's required-reading entry for this article, if any

  const links = h("div");
  const reading = h("div");

  function feedbackForm() {
    const comment = h("textarea", { name: "comment", rows: 3, maxlength: 2000,
      placeholder: t("kba.comment_placeholder") });
    const thanks = h("p", { class: "muted small", "aria-live": "polite" });
    async function send(helpful) {
      clearNotice();
      const body = { helpful };
      if (comment.value.trim()) body.comment = comment.value.trim();
      const done = await guarded(() => api.put(`/api/v1/kb/articles/${id}/feedback`, body));
      if (done) replace(thanks, helpful ? t("kba.thanks_helpful") : t("kba.thanks_not_helpful"));
    }
    return h("div", { class: "stack kb-feedback", "aria-label": t("kba.feedback") },
      h("div", { class: "inline" }, h("strong", {}, t("kba.helpful_question")),
        iconButton("check", t("kba.helpful"), { onclick: () => send(true), "data-helpful": "yes" }),
        iconButton("x", t("kba.not_helpful"), { onclick: () => send(false), "data-helpful": "no" })),
      field(t("kba.comment"), comment), thanks);
  }

  function render() {
    const a = article;
    setTitle(a.title);
    const cat = categories.find((c) => c.id === a.category_id);
    const ack = pending ? h("div", { class: "kb-ack", role: "region", "aria-label": t("route.kb_reading") },
      icon("check"), h("span", {}, t("kba.required_for_you")),
      h("button", { type: "button", class: "btn btn-primary btn-small", onclick: acknowledge }, t("kba.have_read")))
      : null;
    replace(root,
      h("div", { class: "ticket-nav" }, h("a", { class: "back-link", href: "#/kb" }, icon("back"), t("nav.kb")),
        staff ? h("span", { class: "inline" },
          h("a", { class: "btn btn-small", href: `#/kb/articles/${id}/history` }, icon("history"), t("route.kb_history")),
          h("a", { class: "btn btn-small btn-primary", href: `#/kb/articles/${id}/edit` }, icon("pencil"), t("common.edit")))
          : null),
      ack,
      h("div", { class: staff ? "ticket-layout" : "kb-read" },
        h("div", { class: "ticket-main stack-lg" },
          h("article", { class: "panel kb-article" },
            h("header", { class: "kb-article-head" },
              h("h2", { class: "kb-article-title" }, a.title),
              a.summary ? h("p", { class: "kb-article-summary" }, a.summary) : null,
              h("p", { class: "small muted" }, cat ? `${cat.path} \u00b7 ` : "",
                [t("kba.updated", { when: dateTime(a.updated_at) }), t("kba.version", { n: a.version }),
                  tn("kba.views", a.views + 1, { count: number(a.views + 1) })].join(" \u00b7 "),
                a.tags.length ? ` \u00b7 ${a.tags.map((tag) => `#${tag}`).join(" ")}` : "")),
            articleBody(a.body_html)),
          panel(null, feedbackForm(), { cls: "panel-feedback" })),
        staff ? h("div", { class: "ticket-side" },
          panel(t("ticket.details"), h("dl", { class: "facts facts-side" },
            h("dt", {}, t("ticket.status")), h("dd", {}, articleBadges(a)),
            h("dt", {}, t("kba.owner")), h("dd", {}, a.owner ? a.owner.display_name : "\u2014"),
            h("dt", {}, t("kba.review")), h("dd", {}, a.review_date ? date(a.review_date) : "\u2014"),
            h("dt", {}, t("enrollment.col.created")), h("dd", {}, dateTime(a.created_at)))),
          panel(t("kba.linked_tickets"), links, { actions: iconButton("link", t("ticket.link"), { class: "btn btn-small",
            onclick: linkTicket }) }),
          panel(t("route.kb_reading"), reading, { actions: iconButton("group", t("kba.assign"), {
            class: "btn btn-small", onclick: assignGroup }) }))
          : null));
    if (staff) renderLinks();
  }

  function renderLinks() {
    const ids = article.linked_ticket_ids || [];
    replace(links, ids.length ? h("ul", { class: "list", "aria-label": t("kba.linked_tickets") }, ids.map((tid) => h("li",
      { class: "inline" }, h("a", { class: "list-link", href: `#/desk/tickets/${tid}` }, t("kba.ticket_n", { id: tid })),
      h("button", { type: "button", class: "btn btn-ghost btn-small", title: t("kba.send_title"),
        onclick: () => sendTo(tid) }, icon("send"), t("kbt.send"))))) : h("p", { class: "muted small" },
      t("kba.no_links")));
  }

  async function loadReading() {
    const data = await api.get("/api/v1/kb/required-reading");
    pending = data.mine.find((p) => p.article.id === id) || null;
    if (staff) {
      const groups = new Map((await allGroups()).map((g) => [g.id, g.name]));
      const rows = (data.overview || []).filter((r) => r.article_id === id);
      replace(reading, rows.length ? rows.map((r) => h("div", { class: "kb-reading-row" },
        h("strong", {}, groups.get(r.group_id) || t("names.group", { id: r.group_id })),
        h("p", { class: "small" }, t("kba.read_counts", { read: r.acknowledged.length, pending: r.pending.length })),
        r.pending.length ? h("p", { class: "small muted" }, `${t("kba.not_read")} `,
          r.pending.map((u) => u.display_name).join(", ")) : null))
        : h("p", { class: "muted small" }, t("kba.not_required")));
    }
  }

  async function load() {
    article = await api.get(`/api/v1/kb/articles/${id}`);
    await loadReading();
    if (root.isConnected) render();
  }

  async function acknowledge() {
    const done = await guarded(() => api.post(`/api/v1/kb/articles/${id}/acknowledge`));
    if (!done) return;
    pending = null;
    render();
    showSuccess(t("kba.ack_done"));
  }

  function ticketForm(title, label, submit) {
    const form = h("form", { class: "stack", "aria-label": title },
      field(t("kba.ticket_field"), h("input", { name: "ticket", required: true, placeholder: t("kba.ticket_placeholder") })),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("common.cancel")),
        h("button", { type: "submit", class: "btn btn-primary" }, label)));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearNotice();
      const raw = formValues(form).ticket;
      try {
        await busy(form, async () => {
          const ticketId = await resolveTicket(raw);
          await submit(ticketId);
        });
        dialog.close();
      } catch (error) {
        showError(error);
      }
    });
    const dialog = openModal(title, form);
    form.elements.ticket.focus();
  }

  async function resolveTicket(raw) {
    if (/^\d+$/.test(raw)) return Number(raw);
    const found = await api.get("/api/v1/tickets", { q: raw, limit: 5 });
    const hit = found.items.find((tk) => tk.number.toLowerCase() === raw.toLowerCase());
    if (!hit) throw new Error(t("kba.no_ticket", { raw }));
    return hit.id;
  }

  function linkTicket() {
    ticketForm(t("kba.link_to_ticket"), t("ticket.link"), async (ticketId) => {
      await api.post(`/api/v1/tickets/${ticketId}/kb-links/${id}`);
      await load();
      showSuccess(t("kba.linked_msg", { id: ticketId }));
    });
  }

  async function sendTo(ticketId) {
    const done = await guarded(() => api.post(`/api/v1/kb/articles/${id}/send-to-ticket/${ticketId}`));
    if (done) showSuccess(t("kba.sent_msg", { id: ticketId }));
  }

  async function assignGroup() {
    const groups = await guarded(allGroups);
    if (!groups) return;
    const form = h("form", { class: "stack", "aria-label": t("kba.make_required_title") },
      field(t("enrollment.group"), h("select", { name: "group_id", required: true },
        groups.map((g) => h("option", { value: g.id }, g.name)))),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("common.cancel")),
        h("button", { type: "submit", class: "btn btn-primary" }, t("kba.make_required"))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearNotice();
      try {
        await busy(form, () => api.post(`/api/v1/kb/articles/${id}/required-reading`,
          { group_id: Number(formValues(form).group_id) }));
        dialog.close();
        await guarded(load);
        showSuccess(t("kba.assigned_msg"));
      } catch (error) {
        showError(error);
      }
    });
    const dialog = openModal(t("route.kb_reading"), form);
  }

  replace(root, h("p", { class: "muted" }, t("common.loading")));
  (async () => {
    categories = (await guarded(categoryTree)) || [];
    const ok = await guarded(async () => { await load(); return true; });
    if (!ok && root.isConnected) {
      replace(root, panel(null, emptyState("search", t("kba.cannot_show"), t("kba.cannot_show_text"),
        h("a", { class: "btn", href: "#/kb" }, t("kba.back")))));
    }
  })();
}
