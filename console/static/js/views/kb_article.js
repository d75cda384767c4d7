// One knowledge-base article: the rendered (server-sanitized) body, "was this helpful?"
// with a comment, and acknowledging required reading. Staff also see its status, the
// tickets it is linked to, and can edit it, see its history, link it to or send it to a
// ticket, and make it required reading for a group.

import { api } from "../api.js";
import { allGroups } from "../directory.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { date, dateTime, number } from "../format.js";
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
      placeholder: "Optional: what was missing or wrong?" });
    const thanks = h("p", { class: "muted small", "aria-live": "polite" });
    async function send(helpful) {
      clearNotice();
      const body = { helpful };
      if (comment.value.trim()) body.comment = comment.value.trim();
      const done = await guarded(() => api.put(`/api/v1/kb/articles/${id}/feedback`, body));
      if (done) replace(thanks, helpful ? "Thank you: glad it helped." : "Thank you: we will improve it.");
    }
    return h("div", { class: "stack kb-feedback", "aria-label": "Feedback" },
      h("div", { class: "inline" }, h("strong", {}, "Was this article helpful?"),
        iconButton("check", "Helpful", { onclick: () => send(true), "data-helpful": "yes" }),
        iconButton("x", "Not helpful", { onclick: () => send(false), "data-helpful": "no" })),
      field("Comment", comment), thanks);
  }

  function render() {
    const a = article;
    setTitle(a.title);
    const cat = categories.find((c) => c.id === a.category_id);
    const ack = pending ? h("div", { class: "kb-ack", role: "region", "aria-label": "Required reading" },
      icon("check"), h("span", {}, "This article is required reading for you."),
      h("button", { type: "button", class: "btn btn-primary btn-small", onclick: acknowledge }, "I have read it"))
      : null;
    replace(root,
      h("div", { class: "ticket-nav" }, h("a", { class: "back-link", href: "#/kb" }, icon("back"), "Knowledge base"),
        staff ? h("span", { class: "inline" },
          h("a", { class: "btn btn-small", href: `#/kb/articles/${id}/history` }, icon("history"), "History"),
          h("a", { class: "btn btn-small btn-primary", href: `#/kb/articles/${id}/edit` }, icon("pencil"), "Edit"))
          : null),
      ack,
      h("div", { class: staff ? "ticket-layout" : "kb-read" },
        h("div", { class: "ticket-main stack-lg" },
          h("article", { class: "panel kb-article" },
            h("header", { class: "kb-article-head" },
              h("h2", { class: "kb-article-title" }, a.title),
              a.summary ? h("p", { class: "kb-article-summary" }, a.summary) : null,
              h("p", { class: "small muted" }, cat ? `${cat.path} \u00b7 ` : "",
                `Updated ${dateTime(a.updated_at)} \u00b7 version ${a.version} \u00b7 ${number(a.views + 1)} ${a.views ? "views" : "view"}`,
                a.tags.length ? ` \u00b7 ${a.tags.map((t) => `#${t}`).join(" ")}` : "")),
            articleBody(a.body_html)),
          panel(null, feedbackForm(), { cls: "panel-feedback" })),
        staff ? h("div", { class: "ticket-side" },
          panel("Details", h("dl", { class: "facts facts-side" },
            h("dt", {}, "Status"), h("dd", {}, articleBadges(a)),
            h("dt", {}, "Owner"), h("dd", {}, a.owner ? a.owner.display_name : "\u2014"),
            h("dt", {}, "Review"), h("dd", {}, a.review_date ? date(a.review_date) : "\u2014"),
            h("dt", {}, "Created"), h("dd", {}, dateTime(a.created_at)))),
          panel("Linked tickets", links, { actions: iconButton("link", "Link", { class: "btn btn-small",
            onclick: linkTicket }) }),
          panel("Required reading", reading, { actions: iconButton("group", "Assign", {
            class: "btn btn-small", onclick: assignGroup }) }))
          : null));
    if (staff) renderLinks();
  }

  function renderLinks() {
    const ids = article.linked_ticket_ids || [];
    replace(links, ids.length ? h("ul", { class: "list", "aria-label": "Linked tickets" }, ids.map((t) => h("li",
      { class: "inline" }, h("a", { class: "list-link", href: `#/desk/tickets/${t}` }, `Ticket #${t}`),
      h("button", { type: "button", class: "btn btn-ghost btn-small", title: "Send this article as a reply",
        onclick: () => sendTo(t) }, icon("send"), "Send")))) : h("p", { class: "muted small" },
      "No ticket links this article yet."));
  }

  async function loadReading() {
    const data = await api.get("/api/v1/kb/required-reading");
    pending = data.mine.find((p) => p.article.id === id) || null;
    if (staff) {
      const groups = new Map((await allGroups()).map((g) => [g.id, g.name]));
      const rows = (data.overview || []).filter((r) => r.article_id === id);
      replace(reading, rows.length ? rows.map((r) => h("div", { class: "kb-reading-row" },
        h("strong", {}, groups.get(r.group_id) || `group #${r.group_id}`),
        h("p", { class: "small" }, `${r.acknowledged.length} read, ${r.pending.length} not yet`),
        r.pending.length ? h("p", { class: "small muted" }, "Not read: ",
          r.pending.map((u) => u.display_name).join(", ")) : null))
        : h("p", { class: "muted small" }, "Not required reading for any group."));
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
    showSuccess("Thank you: your reading is recorded.");
  }

  function ticketForm(title, label, submit) {
    const form = h("form", { class: "stack", "aria-label": title },
      field("Ticket number or id", h("input", { name: "ticket", required: true, placeholder: "INC-000042 or 42" })),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, "Cancel"),
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
    const hit = found.items.find((t) => t.number.toLowerCase() === raw.toLowerCase());
    if (!hit) throw new Error(`no ticket ${raw}`);
    return hit.id;
  }

  function linkTicket() {
    ticketForm("Link to a ticket", "Link", async (ticketId) => {
      await api.post(`/api/v1/tickets/${ticketId}/kb-links/${id}`);
      await load();
      showSuccess(`Linked to ticket #${ticketId}.`);
    });
  }

  async function sendTo(ticketId) {
    const done = await guarded(() => api.post(`/api/v1/kb/articles/${id}/send-to-ticket/${ticketId}`));
    if (done) showSuccess(`The article was sent to ticket #${ticketId} as a reply.`);
  }

  async function assignGroup() {
    const groups = await guarded(allGroups);
    if (!groups) return;
    const form = h("form", { class: "stack", "aria-label": "Make required reading" },
      field("Group", h("select", { name: "group_id", required: true },
        groups.map((g) => h("option", { value: g.id }, g.name)))),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, "Cancel"),
        h("button", { type: "submit", class: "btn btn-primary" }, "Make required")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearNotice();
      try {
        await busy(form, () => api.post(`/api/v1/kb/articles/${id}/required-reading`,
          { group_id: Number(formValues(form).group_id) }));
        dialog.close();
        await guarded(load);
        showSuccess("The group's members now have this article to read.");
      } catch (error) {
        showError(error);
      }
    });
    const dialog = openModal("Required reading", form);
  }

  replace(root, h("p", { class: "muted" }, "Loading\u2026"));
  (async () => {
    categories = (await guarded(categoryTree)) || [];
    const ok = await guarded(async () => { await load(); return true; });
    if (!ok && root.isConnected) {
      replace(root, panel(null, emptyState("search", "This article cannot be shown",
        "It may not exist, or it is not published for you.",
        h("a", { class: "btn", href: "#/kb" }, "Back to the knowledge base"))));
    }
  })();
}
