// The knowledge-base panel of a ticket. Staff see the linked articles, link another one
// (found by search), send one as a reply, unlink, and draft a new article from a resolved
// ticket; requesters see the public articles linked to their ticket.

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { t } from "./i18n.js";
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
    title: t("kbt.draft_title"), onclick: draft },
  icon("pencil"), t("kbt.draft"));
  const el = panel(staff ? t("nav.kb") : t("kbt.helpful"), list, {
    actions: staff ? [draftButton, h("button", { type: "button", class: "btn btn-small", onclick: pick },
      icon("link"), t("ticket.link"))] : null });

  async function load() {
    const data = await api.get(`/api/v1/tickets/${ticketId}/kb-links`);
    el.hidden = !staff && !data.items.length;
    replace(list, data.items.length ? h("ul", { class: "list", "aria-label": t("kbt.linked") },
      data.items.map((a) => h("li", { class: "kb-linked", "data-id": a.id },
        h("a", { class: "list-link", href: `#/kb/articles/${a.id}` }, a.title),
        staff ? h("span", { class: "inline" },
          h("button", { type: "button", class: "btn btn-ghost btn-small", title: t("kbt.send_title"),
            onclick: () => send(a) }, icon("send"), t("kbt.send")),
          h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": t("kbt.unlink", { title: a.title }),
            onclick: () => unlink(a) }, icon("x"))) : null)))
      : h("p", { class: "muted small" }, t("kbt.none")));
  }

  async function send(article) {
    clearNotice();
    const done = await guarded(() => api.post(`/api/v1/kb/articles/${article.id}/send-to-ticket/${ticketId}`));
    if (!done) return;
    showSuccess(t("kbt.sent", { title: article.title }));
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
    if (created) goWithNotice(`#/kb/articles/${created.id}/edit`, t("kbt.drafted"));
  }

  function pick() {
    const input = h("input", { type: "search", "aria-label": t("kbt.find"), placeholder: t("kbt.find_placeholder"),
      maxlength: 200, autocomplete: "off" });
    const results = h("ul", { class: "list kb-pick", "aria-label": t("kbt.found") });
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
        : h("li", { class: "list-empty" }, t("kbt.no_match")));
    }, 250);
    input.addEventListener("input", find);
    async function link(article) {
      clearNotice();
      const done = await guarded(() => api.post(`/api/v1/tickets/${ticketId}/kb-links/${article.id}`));
      if (!done) return;
      dialog.close();
      await guarded(load);
      showSuccess(t("kbt.linked_msg", { title: article.title }));
    }
    const dialog = openModal(t("kbt.link_title"), h("div", { class: "stack" }, input, results));
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
