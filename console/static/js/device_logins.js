// Device page → "Logins seen on this device": each OS login the device reported, the
// person it is bound to (confirmed by staff or by the group's rule), Bind… with a person
// picker by name, Unbind, and the binding history (the audit entries of this device).

import { api } from "./api.js";
import { personText } from "./admin_pickers.js";
import { h, replace } from "./dom.js";
import { FieldProblem, onSubmit } from "./forms.js";
import { ago, dateTime } from "./format.js";
import { t } from "./i18n.js";
import { icon } from "./icons.js";
import { clearNotice, guarded, showError, showSuccess } from "./notice.js";
import { confirmDialog, openModal, panel } from "./ui.js";

const SEARCH_LIMIT = 20;
let counter = 0;

/**
 * A person picker that searches active requesters by name as one types (the server
 * does the search, so a directory of thousands needs no list in the page). `picked()`
 * returns the chosen person, or undefined when the text names nobody offered.
 */
export function requesterSearch(initial) {
  counter += 1;
  let offered = initial ? [initial] : [];
  const list = h("datalist", { id: `requesters-${counter}` },
    offered.map((u) => h("option", { value: personText(u) })));
  const input = h("input", { name: "person", id: `requester-${counter}`, type: "search", list: list.id, autocomplete: "off",
    required: true, placeholder: t("binding.person_placeholder"), value: initial ? personText(initial) : null });
  let asked = 0;
  input.addEventListener("input", async () => {
    const text = input.value.trim();
    if (offered.some((u) => personText(u) === text)) return;
    const mine = ++asked;
    const page = await guarded(() => api.get("/api/v1/users", { role: "requester", active: true,
      q: text.slice(0, 100) || undefined, limit: SEARCH_LIMIT }));
    if (!page || mine !== asked) return;
    offered = page.items.filter((u) => !u.username.includes(":")); // never a system account
    replace(list, offered.map((u) => h("option", { value: personText(u) })));
  });
  input.picked = () => {
    const folded = input.value.trim().toLocaleLowerCase();
    return offered.find((u) => personText(u).toLocaleLowerCase() === folded)
      || offered.find((u) => u.username.toLocaleLowerCase() === folded)
      || offered.find((u) => u.display_name.toLocaleLowerCase() === folded);
  };
  return { input, element: h("div", { class: "person-picker" }, input, list) };
}

function bindDialog(deviceId, seen, onDone) {
  const picker = requesterSearch(seen.suggested);
  const form = h("form", { class: "stack", "aria-label": t("binding.bind_title", { login: seen.login }) },
    h("p", { class: "muted" }, t("binding.bind_text", { login: seen.login })),
    h("div", { class: "field" }, h("label", { for: picker.input.id }, t("binding.person")), picker.element,
      seen.suggested ? h("p", { class: "hint" }, t("binding.suggested_hint")) : null),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("common.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, icon("user_plus"), t("binding.bind"))));
  onSubmit(form, async () => {
    const person = picker.input.picked();
    if (!person) throw new FieldProblem(picker.input, t("binding.pick_someone"));
    try {
      await api.put(`/api/v1/devices/${deviceId}/bindings/${encodeURIComponent(seen.login)}`, { user_id: person.id });
    } catch (error) {
      // Offered a moment ago, no longer an active requester (or gone): said in the page's words.
      if (error.field !== "user_id") throw error;
      throw new FieldProblem(picker.input, t("binding.not_a_requester", { name: person.display_name }));
    }
    dialog.close();
    showSuccess(t("binding.bound", { login: seen.login, name: person.display_name }));
    onDone();
  });
  const dialog = openModal(t("binding.bind_title", { login: seen.login }), form);
  picker.input.focus();
}

function historyLine(entry) {
  const who = entry.user ? entry.user.display_name : t("binding.someone_removed");
  const by = entry.source === "rule" ? t("binding.by_rule") : (entry.actor_name || t("binding.someone_removed"));
  const text = entry.action === "device.bind"
    ? t("binding.history.bound", { login: entry.login, name: who, by })
    : t("binding.history.unbound", { login: entry.login, name: who, by });
  return h("li", { "data-action": entry.action },
    h("span", {}, text), " ", h("span", { class: "muted small", title: dateTime(entry.at) }, ago(entry.at)));
}

/** Return {el, refresh} of the device's "Logins seen" panel (staff only). */
export function deviceLogins(deviceId) {
  const body = h("div", { class: "stack" }, h("p", { class: "muted" }, t("common.loading")));
  const el = panel(t("binding.title"), body, { cls: "panel-logins" });

  function row(seen) {
    const b = seen.binding;
    const person = b
      ? h("span", {}, b.user.display_name, " ",
        h("span", { class: `badge ${b.source === "rule" ? "badge-rule" : "badge-confirmed"}` },
          b.source === "rule" ? t("binding.source.rule") : t("binding.source.staff")))
      : h("span", { class: "muted" }, t("binding.unknown_user"));
    const action = b
      ? h("button", { type: "button", class: "btn btn-small", "aria-label": t("binding.unbind_login", { login: seen.login }),
        onclick: () => unbind(seen) }, t("binding.unbind"))
      : h("button", { type: "button", class: "btn btn-small btn-primary", "aria-label": t("binding.bind_login", { login: seen.login }),
        onclick: () => bindDialog(deviceId, seen, refresh) }, t("binding.bind_action"));
    return h("tr", { "data-login": seen.login },
      h("td", { class: "mono" }, seen.login),
      h("td", {}, person),
      h("td", { title: dateTime(seen.last_seen_at) }, ago(seen.last_seen_at)),
      h("td", { class: "cell-actions" }, action));
  }

  async function unbind(seen) {
    const ok = await confirmDialog(t("binding.unbind"), t("binding.unbind_question",
      { login: seen.login, name: seen.binding.user.display_name }), { confirmLabel: t("binding.unbind"), danger: true });
    if (!ok) return;
    clearNotice();
    try {
      await api.delete(`/api/v1/devices/${deviceId}/bindings/${encodeURIComponent(seen.login)}`);
      showSuccess(t("binding.unbound", { login: seen.login }));
      await refresh();
    } catch (error) {
      showError(error);
    }
  }

  async function refresh() {
    const [logins, history] = await Promise.all([api.get(`/api/v1/devices/${deviceId}/logins`),
      api.get(`/api/v1/devices/${deviceId}/binding-history`)]);
    const table = logins.items.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "table", "aria-label": t("binding.title") },
        h("thead", {}, h("tr", {}, [t("binding.col.login"), t("binding.col.person"), t("binding.col.last_seen"),
          t("binding.col.actions")].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, logins.items.map(row))))
      : h("p", { class: "muted" }, t("binding.none_seen"));
    replace(body, h("p", { class: "muted small" }, t("binding.explain")), table,
      history.items.length ? h("details", { class: "binding-history" },
        h("summary", {}, t("binding.history.title")),
        h("ul", { class: "plain-list", "aria-label": t("binding.history.title") }, history.items.map(historyLine)))
        : null);
  }

  return { el, refresh };
}
