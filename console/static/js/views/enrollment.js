// Admin → Enrollment: the tokens that let machines join, and the install command of a new one.

import { api } from "../api.js";
import { allGroups } from "../directory.js";
import { field, formValues, h, replace } from "../dom.js";
import { FieldProblem, onSubmit as handleSubmit } from "../forms.js";
import { date, dateTime } from "../format.js";
import { labels, t, tn } from "../i18n.js";
import { icon } from "../icons.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import { confirmDialog, emptyState, iconButton, openModal, panel } from "../ui.js";

const MAX_HOURS = 24 * 365;
const STATE_LABELS = labels("enrollment.state", ["active", "revoked", "expired", "used_up"]);

function stateBadge(state) {
  return h("span", { class: `badge badge-token-${state}` }, STATE_LABELS[state] || state);
}

function tokenForm({ groups, onSubmit }) {
  const amount = h("input", { name: "amount", type: "number", min: 1, max: 8760, value: 7, required: true,
    inputmode: "numeric" });
  const unit = h("select", { name: "unit", "aria-label": t("enrollment.unit") },
    h("option", { value: "days", selected: true }, t("enrollment.days")), h("option", { value: "hours" }, t("enrollment.hours")));
  const expiry = h("div", { class: "input-group" }, amount, unit);
  const form = h("form", { class: "stack", "aria-label": t("enrollment.new_token_title") },
    h("div", { class: "row-2" },
      h("div", { class: "field" }, h("label", { for: "token-amount" }, t("enrollment.expires_in")), expiry,
        h("p", { class: "hint" }, t("enrollment.expires_hint"))),
      field(t("enrollment.max_uses"), h("input", { name: "max_uses", type: "number", min: 1, max: 100000,
        inputmode: "numeric", placeholder: t("enrollment.unlimited") }), t("enrollment.max_uses_hint"))),
    field(t("enrollment.group"), h("select", { name: "group_id" },
      h("option", { value: "" }, t("enrollment.no_group")),
      groups.map((g) => h("option", { value: String(g.id) }, g.name))), t("enrollment.group_hint")),
    field(t("enrollment.note"), h("input", { name: "note", maxlength: 200, placeholder: t("enrollment.note_placeholder") })),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => form.closest("dialog")?.close() }, t("common.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, t("enrollment.create"))));
  amount.id = "token-amount";
  handleSubmit(form, async () => {
    const v = formValues(form);
    const hours = Number(v.amount) * (v.unit === "days" ? 24 : 1);
    if (!Number.isInteger(hours) || hours < 1 || hours > MAX_HOURS) {
      throw new FieldProblem(amount, t("enrollment.expiry_range"));
    }
    const body = { expires_in_hours: hours, note: v.note };
    if (v.max_uses) body.max_uses = Number(v.max_uses);
    if (v.group_id) body.group_id = Number(v.group_id);
    await onSubmit(body);
  });
  return form;
}

function installBox(created, groupName) {
  const command = h("code", { class: "code-box", "aria-label": t("enrollment.install_command"), tabindex: "0" },
    created.install_command);
  const copy = h("button", { type: "button", class: "btn" }, icon("copy"), t("common.copy"));
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(created.install_command);
      replace(copy, icon("copy"), t("common.copied"));
    } catch {
      getSelection().selectAllChildren(command);
      showError(t("enrollment.clipboard_refused"));
    }
  });
  const info = created.info;
  const limits = [
    t("enrollment.limit.expires", { when: dateTime(info.expires_at) }),
    info.max_uses ? tn("enrollment.limit.uses", info.max_uses) : t("enrollment.limit.any"),
    groupName ? t("enrollment.limit.group", { group: groupName }) : null,
  ].filter(Boolean).join(", ");
  return h("div", { class: "token-once", role: "status" },
    h("p", { class: "token-once-title" }, t("enrollment.copy_now")),
    h("div", { class: "code-row" }, command, copy),
    h("p", { class: "token-once-hint" },
      t("enrollment.run_as_root", { limits })));
}

/** Fill the Enrollment view. */
export function enrollmentView(root) {
  let groups = [];
  const groupNames = new Map();
  const list = h("div", { class: "table-wrap" });
  const revealed = h("div");

  async function load() {
    const data = await guarded(() => api.get("/api/v1/enrollment-tokens"));
    if (!data) return;
    if (!data.items.length) {
      replace(list, emptyState("enroll", t("enrollment.none"), t("enrollment.none_text")));
      return;
    }
    const rows = data.items.map((tok) => h("tr", { "data-token": tok.prefix, class: tok.state === "active" ? null : "row-dim" },
      h("td", { class: "mono" }, `${tok.prefix}\u2026`),
      h("td", {}, tok.note || h("span", { class: "muted" }, "\u2014")),
      h("td", {}, tok.group_id ? h("span", { class: "chip" }, groupNames.get(tok.group_id) || `#${tok.group_id}`)
        : h("span", { class: "muted" }, "\u2014")),
      h("td", { class: "nowrap" }, tok.max_uses ? `${tok.uses} / ${tok.max_uses}` : `${tok.uses} / \u221e`),
      h("td", { class: "nowrap", title: dateTime(tok.expires_at) }, dateTime(tok.expires_at)),
      h("td", { class: "nowrap", title: dateTime(tok.created_at) }, date(tok.created_at)),
      h("td", {}, stateBadge(tok.state)),
      h("td", { class: "cell-actions" }, tok.state === "active"
        ? h("button", { type: "button", class: "btn btn-small btn-danger-ghost",
          "aria-label": t("enrollment.revoke_named", { prefix: tok.prefix }), onclick: () => revoke(tok) },
        t("enrollment.revoke")) : null)));
    replace(list, h("table", { class: "table table-tokens", "aria-label": t("enrollment.tokens") },
      h("thead", {}, h("tr", {}, ["token", "note", "group", "uses", "expires", "created", "state"]
        .map((col) => h("th", { scope: "col" }, t(`enrollment.col.${col}`))), h("th", { scope: "col" }, ""))),
      h("tbody", {}, rows)));
  }

  async function revoke(token) {
    const ok = await confirmDialog(t("enrollment.revoke_title"),
      t("enrollment.revoke_question", { token: `${token.prefix}\u2026${token.note ? ` (${token.note})` : ""}` }),
      { confirmLabel: t("enrollment.revoke_token"), danger: true });
    if (!ok) return;
    clearNotice();
    if (await guarded(async () => { await api.delete(`/api/v1/enrollment-tokens/${token.id}`); return true; })) {
      showSuccess(t("enrollment.revoked", { prefix: token.prefix }));
      if (revealed.dataset.token === String(token.id)) {
        replace(revealed);
        delete revealed.dataset.token;
      }
      await load();
    }
  }

  function create() {
    const dialog = openModal(t("enrollment.new_token_title"), tokenForm({ groups, onSubmit: async (body) => {
      const created = await api.post("/api/v1/enrollment-tokens", body);
      dialog.close();
      revealed.dataset.token = String(created.info.id);
      replace(revealed, installBox(created, groupNames.get(created.info.group_id)));
      await load();
    } }));
  }

  root.append(
    h("div", { class: "toolbar" },
      h("p", { class: "lead" }, t("enrollment.lead")),
      h("div", { class: "toolbar-end" },
        iconButton("plus", t("enrollment.new_token"), { class: "btn btn-primary", onclick: create }))),
    revealed,
    panel(t("enrollment.tokens"), list, { cls: "panel-flush" }));
  replace(list, h("p", { class: "muted" }, t("common.loading")));

  (async () => {
    groups = (await guarded(allGroups)) || [];
    for (const g of groups) groupNames.set(g.id, g.name);
    await load();
  })();
}
