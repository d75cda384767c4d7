// The knowledge-base panel of a ticket. Staff see the linked articles, link another one
// (found by search), send one as a reply, unlink, and draft a new article from a resolved
// ticket; requesters see the public articles linked to their ticket.

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { icon } from "./icons.js";
import { goWithNotice, snippetNodes } from "./kb.js";
import { debounce } from "./live.js";
import { clearNotice, guarded, showSuccess } from "./notice.js";
import { openModal, panel } from "./ui.js";

const DRAFTABLE = new Set(["resolved", "closed"]);

/**
 * Return {el, refresh(status)}: a panel listing the ticket's articles. `onSent` runs after
 * an article was sent as a reply (the timeline changed).
 */
export function ticketArticles(ticketId, { staff, onSent = () => {} }) {
  const list = h("div");
  let status = "";
  const draftButton = h("button", { type: "button", class: "btn btn-small", hidden: true,
    title: "Start a draft article from this ticket's description and resolution", onclick: draft },
  icon("pencil"), "Draft article");
  const el = panel(staff ? "Knowledge base" : "Helpful articles", list, {
    actions: staff ? [draftButton, h("button", { type: "button", class: "btn btn-small", onclick: pick },
      icon("link"), "Link")] : null });

  async function load() {
    const data = await api.get(`/api/v1/tickets/${ticketId}/kb-links`);
    el.hidden = !staff && !data.items.length;
    replace(list, data.items.length ? h("ul", { class: "list", "aria-label": "Linked articles" },
      data.items.map((a) => h("li", { class: "kb-linked", "data-id": a.id },
        h("a", { class: "list-link", href: `#/kb/articles/${a.id}` }, a.title),
        staff ? h("span", { class: "inline" },
          h("button", { type: "button", class: "btn btn-ghost btn-small", title: "Send as a reply",
            onclick: () => send(a) }, icon("send"), "Send"),
          h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": `Unlink ${a.title}`,
            onclick: () => unlink(a) }, icon("x"))) : null)))
      : h("p", { class: "muted small" }, "No article is linked yet."));
  }

  async function send(article) {
    clearNotice();
    const done = await guarded(() => api.post(`/api/v1/kb/articles/${article.id}/send-to-ticket/${ticketId}`));
    if (!done) return;
    showSuccess(`\u201c${article.title}\u201d was sent as a reply.`);
    onSent();
  }

  async function unlink(article) {
    clearNotice();
    if (await guarded(async () => { await api.delete(`/api/v1/tickets/${ticketId}/kb-links/${article.id}`); return true; })) {
      await guarded(load);
    }
  }

  async function draft() {
    clearNotice();
    const created = await guarded(() => api.post(`/api/v1/kb/articles/from-ticket/${ticketId}`));
    if (created) goWithNotice(`#/kb/articles/${created.id}/edit`, "A draft article was made from this ticket.");
  }

  function pick() {
    const input = h("input", { type: "search", "aria-label": "Find an article", placeholder: "Find an article\u2026",
      maxlength: 200, autocomplete: "off" });
    const results = h("ul", { class: "list kb-pick", "aria-label": "Articles found" });
    const find = debounce(async () => {
      const q = input.value.trim();
      if (!q) {
        replace(results);
        return;
      }
      const data = await guarded(() => api.get("/api/v1/kb/search", { q, limit: 8 }));
      if (!data) return;
      replace(results, data.items.length ? data.items.map((hit) => h("li", {},
        h("button", { type: "button", class: "list-link kb-pick-item", onclick: () => link(hit.article) },
          h("strong", {}, hit.article.title), h("span", { class: "small muted" }, snippetNodes(hit.snippet)))))
        : h("li", { class: "list-empty" }, "No article matches."));
    }, 250);
    input.addEventListener("input", find);
    async function link(article) {
      clearNotice();
      const done = await guarded(() => api.post(`/api/v1/tickets/${ticketId}/kb-links/${article.id}`));
      if (!done) return;
      dialog.close();
      await guarded(load);
      showSuccess(`\u201c${article.title}\u201d is linked.`);
    }
    const dialog = openModal("Link an article", h("div", { class: "stack" }, input, results));
    input.focus();
  }

  return {
    el,
    refresh(newStatus) {
      status = newStatus || status;
      draftButton.hidden = !DRAFTABLE.has(status);
      guarded(load);
    },
  };
}
