// The desk's saved views: the queue's tab, search, filters and sort kept on the server
// under a name (GET/POST/PATCH/DELETE /api/v1/views). Personal views are the owner's
// alone; shared ones are listed for all staff and kept by admins.

import { api } from "./api.js";
import { busy, field, formValues, h, replace } from "./dom.js";
import { clearFieldErrors, fieldError, focusFirstError, placeError } from "./forms.js";
import { t } from "./i18n.js";
import { icon } from "./icons.js";
import { clearNotice, guarded, showSuccess } from "./notice.js";
import { confirmDialog, openModal } from "./ui.js";

/** Return the saved form of the desk's state (the API's ViewFilters). */
export function filtersOf(s) {
  return { view: s.view, q: s.q, status: s.status || null, priority: s.priority ? Number(s.priority) : null,
    kind: s.kind || null, sort: s.sort };
}

/** Return the desk's state for saved filters. */
export function stateOf(filters) {
  return { view: filters.view, q: filters.q || "", status: filters.status || "",
    priority: filters.priority ? String(filters.priority) : "", kind: filters.kind || "", sort: filters.sort };
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function nameDialog({ title, name = "", canShare = false, submitLabel, send, load }) {
  const input = h("input", { name: "name", maxlength: 100, value: name, autocomplete: "off",
    placeholder: t("desk.views.name_placeholder") });
  const share = canShare ? h("label", { class: "check" },
    h("input", { type: "checkbox", name: "shared" }), t("desk.views.share")) : null;
  const form = h("form", { class: "stack", "aria-label": title, novalidate: true },
    field(t("desk.views.name"), input), share,
    share ? h("p", { class: "hint" }, t("desk.views.share_hint")) : null,
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("desk.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, submitLabel)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const v = formValues(form);
    if (!v.name) {
      fieldError(input, t("desk.views.name_needed"));
      focusFirstError(form);
      return;
    }
    try {
      const done = await busy(form, () => send(v));
      dialog.close(); // first: the confirmation belongs to the page, not the dialog
      showSuccess(done);
      await load();
    } catch (error) {
      placeError(form, error);
    }
  });
  const dialog = openModal(title, form);
  input.focus();
  input.select();
}

/**
 * The saved-views strip beside the queue. `current()` returns the desk's state, `open(state)`
 * shows a view's filters; `refresh()` marks the view that matches what the desk shows.
 */
export function savedViewsBar({ user, current, open }) {
  let views = [];
  const list = h("ul", { "aria-label": t("desk.views.title") });
  const tools = h("div", { class: "bulk-actions" });
  const heading = h("h2", { class: "saved-views-title", id: "saved-views-title" }, t("desk.views.title"));
  const element = h("section", { class: "saved-views", "aria-labelledby": heading.id }, heading, list, tools);

  const matching = () => views.find((v) => same(v.filters, filtersOf(current()))) || null;

  function refresh() {
    const active = matching();
    for (const button of list.querySelectorAll("button")) {
      const on = active && Number(button.dataset.view) === active.id;
      if (on) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
    const editable = active && active.editable;
    replace(tools,
      h("button", { type: "button", class: "btn btn-small", onclick: save }, icon("plus"), t("desk.views.save")),
      editable ? h("button", { type: "button", class: "btn btn-small", onclick: () => rename(active) },
        icon("pencil"), t("desk.views.rename")) : null,
      editable ? h("button", { type: "button", class: "btn btn-small btn-danger-ghost", onclick: () => remove(active) },
        icon("trash"), t("desk.views.delete")) : null);
  }

  async function load() {
    const data = await guarded(() => api.get("/api/v1/views"));
    if (!data) return;
    views = data.items;
    replace(list, views.map((v) => h("li", {}, h("button", {
      type: "button", class: "btn btn-small saved-view", "data-view": v.id,
      title: v.shared ? t("desk.views.shared_by", { name: v.owner.display_name }) : null,
      onclick: () => { clearNotice(); open(stateOf(v.filters)); } },
    v.name, v.shared ? h("span", { class: "saved-view-shared" }, t("desk.views.shared")) : null))));
    if (!views.length) list.append(h("li", { class: "muted" }, t("desk.views.none")));
    refresh();
  }

  function save() {
    clearNotice();
    nameDialog({ title: t("desk.views.save_title"), canShare: user.role === "admin",
      submitLabel: t("desk.views.save"),
      send: async (v) => {
        const made = await api.post("/api/v1/views", { name: v.name, shared: !!v.shared,
          filters: filtersOf(current()) });
        return t("desk.views.saved", { name: made.name });
      }, load });
  }

  function rename(view) {
    clearNotice();
    nameDialog({ title: t("desk.views.rename_title"), name: view.name, submitLabel: t("desk.views.rename"),
      send: async (v) => {
        const renamed = await api.patch(`/api/v1/views/${view.id}`, { name: v.name });
        return t("desk.views.renamed", { name: renamed.name });
      }, load });
  }

  async function remove(view) {
    clearNotice();
    const ok = await confirmDialog(t("desk.views.delete_title"),
      t(view.shared ? "desk.views.delete_shared_question" : "desk.views.delete_question", { name: view.name }),
      { confirmLabel: t("desk.views.delete"), danger: true });
    if (!ok) return;
    if (await guarded(async () => { await api.delete(`/api/v1/views/${view.id}`); return true; })) {
      showSuccess(t("desk.views.deleted", { name: view.name }));
      await load();
    }
  }

  load();
  return { element, refresh };
}
