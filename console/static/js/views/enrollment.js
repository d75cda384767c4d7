// Admin → Enrollment: the tokens that let machines join, and the install command of a new one.

import { api } from "../api.js";
import { allGroups } from "../directory.js";
import { field, formValues, h, replace } from "../dom.js";
import { FieldProblem, onSubmit as handleSubmit } from "../forms.js";
import { date, dateTime } from "../format.js";
import { icon } from "../icons.js";
import { t } from "../i18n.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import { confirmDialog, emptyState, iconButton, openModal, panel } from "../ui.js";

const MAX_HOURS = 24 * 365;
const STATE_LABELS = { active: "Active", revoked: "Revoked", expired: "Expired", used_up: "Used up" };

function stateBadge(state) {
  return h("span", { class: `badge badge-token-${state}` }, STATE_LABELS[state] || state);
}

function tokenForm({ groups, onSubmit }) {
  const amount = h("input", { name: "amount", type: "number", min: 1, max: 8760, value: 7, required: true,
    inputmode: "numeric" });
  const unit = h("select", { name: "unit", "aria-label": "Unit" },
    h("option", { value: "days", selected: true }, "days"), h("option", { value: "hours" }, "hours"));
  const expiry = h("div", { class: "input-group" }, amount, unit);
  const form = h("form", { class: "stack", "aria-label": "New enrollment token" },
    h("div", { class: "row-2" },
      h("div", { class: "field" }, h("label", { for: "token-amount" }, "Expires in"), expiry,
        h("p", { class: "hint" }, "At most one year.")),
      field("Max uses", h("input", { name: "max_uses", type: "number", min: 1, max: 100000,
        inputmode: "numeric", placeholder: "Unlimited" }), "Empty: any number of machines.")),
    field("Group", h("select", { name: "group_id" },
      h("option", { value: "" }, "No group"),
      groups.map((g) => h("option", { value: String(g.id) }, g.name))), "Machines enrolled with it join this group."),
    field("Note", h("input", { name: "note", maxlength: 200, placeholder: "e.g. Accounting laptops" })),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => form.closest("dialog")?.close() }, "Cancel"),
      h("button", { type: "submit", class: "btn btn-primary" }, "Create token")));
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
  const command = h("code", { class: "code-box", "aria-label": "Install command", tabindex: "0" },
    created.install_command);
  const copy = h("button", { type: "button", class: "btn" }, icon("copy"), "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(created.install_command);
      replace(copy, icon("copy"), "Copied");
    } catch {
      getSelection().selectAllChildren(command);
      showError("the browser refused clipboard access; the command is selected, copy it by hand");
    }
  });
  const info = created.info;
  const limits = [
    `expires ${dateTime(info.expires_at)}`,
    info.max_uses ? `enrolls up to ${info.max_uses} machine${info.max_uses === 1 ? "" : "s"}` : "enrolls any number of machines",
    groupName ? `puts them in ${groupName}` : null,
  ].filter(Boolean).join(", ");
  return h("div", { class: "token-once", role: "status" },
    h("p", { class: "token-once-title" }, "Copy the install command now. Its token is shown only once."),
    h("div", { class: "code-row" }, command, copy),
    h("p", { class: "token-once-hint" },
      `Run it as root on each machine, after installing the agent. The token ${limits}.`));
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
      replace(list, emptyState("enroll", "No enrollment tokens",
        "Create a token, then run its install command on a machine to enroll it."));
      return;
    }
    const rows = data.items.map((t) => h("tr", { "data-token": t.prefix, class: t.state === "active" ? null : "row-dim" },
      h("td", { class: "mono" }, `${t.prefix}\u2026`),
      h("td", {}, t.note || h("span", { class: "muted" }, "\u2014")),
      h("td", {}, t.group_id ? h("span", { class: "chip" }, groupNames.get(t.group_id) || `#${t.group_id}`)
        : h("span", { class: "muted" }, "\u2014")),
      h("td", { class: "nowrap" }, t.max_uses ? `${t.uses} / ${t.max_uses}` : `${t.uses} / \u221e`),
      h("td", { class: "nowrap", title: dateTime(t.expires_at) }, dateTime(t.expires_at)),
      h("td", { class: "nowrap", title: dateTime(t.created_at) }, date(t.created_at)),
      h("td", {}, stateBadge(t.state)),
      h("td", { class: "cell-actions" }, t.state === "active"
        ? h("button", { type: "button", class: "btn btn-small btn-danger-ghost",
          "aria-label": `Revoke token ${t.prefix}`, onclick: () => revoke(t) }, "Revoke") : null)));
    replace(list, h("table", { class: "table table-tokens", "aria-label": "Enrollment tokens" },
      h("thead", {}, h("tr", {}, ["Token", "Note", "Group", "Uses", "Expires", "Created", "State", ""]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows)));
  }

  async function revoke(token) {
    const ok = await confirmDialog("Revoke enrollment token",
      `Revoke the token ${token.prefix}\u2026${token.note ? ` (${token.note})` : ""}? `
      + "Machines can no longer enroll with it. Devices already enrolled stay.",
      { confirmLabel: "Revoke token", danger: true });
    if (!ok) return;
    clearNotice();
    if (await guarded(async () => { await api.delete(`/api/v1/enrollment-tokens/${token.id}`); return true; })) {
      showSuccess(`Token ${token.prefix}\u2026 revoked.`);
      if (revealed.dataset.token === String(token.id)) {
        replace(revealed);
        delete revealed.dataset.token;
      }
      await load();
    }
  }

  function create() {
    const dialog = openModal("New enrollment token", tokenForm({ groups, onSubmit: async (body) => {
      const created = await api.post("/api/v1/enrollment-tokens", body);
      dialog.close();
      revealed.dataset.token = String(created.info.id);
      replace(revealed, installBox(created, groupNames.get(created.info.group_id)));
      await load();
    } }));
  }

  root.append(
    h("div", { class: "toolbar" },
      h("p", { class: "lead" }, "A machine joins Deskmate when its agent enrolls with a token. "
        + "Tokens expire, may be limited in uses, and can put machines in a group."),
      h("div", { class: "toolbar-end" },
        iconButton("plus", "New token", { class: "btn btn-primary", onclick: create }))),
    revealed,
    panel("Enrollment tokens", list, { cls: "panel-flush" }));
  replace(list, h("p", { class: "muted" }, "Loading\u2026"));

  (async () => {
    groups = (await guarded(allGroups)) || [];
    for (const g of groups) groupNames.set(g.id, g.name);
    await load();
  })();
}
