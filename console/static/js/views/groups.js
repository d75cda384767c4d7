// Admin → Groups: list, create, rename/describe, manager and auto-assignment (picked by
// name), delete, and members (staff, picked by name).

import { api } from "../api.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { allGroups, allUsers } from "../directory.js";
import { clearFieldErrors, placeError, showFieldErrors } from "../forms.js";
import { t, tn } from "../i18n.js";
import { clearNotice, guarded, showSuccess } from "../notice.js";
import { bindingRulePanel } from "../binding_rule.js";
import { remotePolicyPanel } from "../remote_policy.js";
import { toolboxPolicyPanel } from "../toolbox_policy.js";
import { roleLabel } from "../session.js";
import { confirmDialog, emptyState, iconButton, openModal, panel } from "../ui.js";

const byName = (a, b) => a.display_name.localeCompare(b.display_name);
const MODES = ["none", "round_robin", "least_loaded"];
const isStaff = (u) => u.role === "admin" || u.role === "technician";

function groupForm({ group = null, users, onSubmit, inModal = false }) {
  const wrap = (path, el) => {
    el.dataset.field = path;
    return el;
  };
  const people = [...users.values()].filter((u) => u.active || (group && u.id === group.manager_id)).sort(byName);
  const mode = group ? group.auto_assign : "none";
  const modeHint = h("p", { class: "hint", id: `mode-hint-${group ? group.id : "new"}` }, t(`groups.mode.${mode}.hint`));
  const modeSelect = h("select", { name: "auto_assign", "aria-describedby": modeHint.id },
    MODES.map((m) => h("option", { value: m, selected: m === mode }, t(`groups.mode.${m}`))));
  modeSelect.addEventListener("change", () => {
    modeHint.textContent = t(`groups.mode.${modeSelect.value}.hint`);
  });
  const modeField = field(t("groups.field.auto_assign"), modeSelect);
  modeField.append(modeHint);
  const form = h("form", { class: "stack", novalidate: true,
    "aria-label": group ? t("groups.edit") : t("groups.new") },
    wrap("name", field(t("groups.field.name"), h("input", { name: "name", maxlength: 100,
      value: group ? group.name : null }))),
    wrap("description", field(t("groups.field.description"), h("textarea", { name: "description", rows: 3,
      maxlength: 1000 }, group ? group.description : ""))),
    group ? wrap("manager_id", field(t("groups.field.manager"), h("select", { name: "manager_id" },
      h("option", { value: "" }, t("groups.manager.none")),
      people.map((u) => h("option", { value: String(u.id), selected: u.id === group.manager_id },
        `${u.display_name} (${roleLabel(u.role)})`))), t("groups.manager.hint"))) : null,
    wrap("auto_assign", modeField),
    h("div", { class: "form-actions" },
      inModal ? h("button", { type: "button", class: "btn", onclick: () => form.closest("dialog")?.close() },
        t("groups.cancel")) : null,
      h("button", { type: "submit", class: "btn btn-primary" }, group ? t("groups.save") : t("groups.create"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    clearFieldErrors(form);
    const values = formValues(form);
    if (!values.name) {
      showFieldErrors([[form.querySelector('[data-field="name"]'), t("groups.error.name")]]);
      return;
    }
    try {
      await busy(form, () => onSubmit(values));
    } catch (error) {
      placeError(form, error, { byCode: { conflict: "name" } });
    }
  });
  return form;
}

/** Fill the Groups view; `params[0]` is the selected group's id, if any. */
export function groupsView(root, { user, params }) {
  let groups = [];
  let policy = null; // {groupId, el}: kept while the same group is shown (unsaved choice)
  let rule = null; // the same for the binding rule panel
  let toolbox = null; // the same for the toolbox policy panel
  let users = new Map();
  let selected = params[0] ? Number(params[0]) : null;

  const list = h("ul", { class: "list", "aria-label": t("groups.list") });
  const detail = h("div", { class: "group-detail" });

  function url(id) {
    return id ? `#/admin/groups/${id}` : "#/admin/groups";
  }

  function select(id, { push = true } = {}) {
    selected = id;
    if (push && location.hash !== url(id)) history.pushState(null, "", url(id));
    renderList();
    renderDetail();
  }

  function renderList() {
    if (!groups.length) {
      replace(list, h("li", { class: "list-empty" }, t("groups.none")));
      return;
    }
    replace(list, groups.map((g) => {
      const link = h("a", { href: url(g.id), class: "list-link",
        "aria-current": g.id === selected ? "true" : null },
        h("span", { class: "list-name" }, g.name),
        h("span", { class: "count", "aria-label": tn("groups.member_count", g.member_ids.length) },
          String(g.member_ids.length)));
      link.addEventListener("click", (e) => {
        e.preventDefault();
        clearNotice();
        select(g.id);
      });
      return h("li", {}, link);
    }));
  }

  function replaceGroup(updated) {
    groups = groups.map((g) => (g.id === updated.id ? updated : g));
    renderList();
    renderDetail();
  }

  function membersPanel(group) {
    const members = group.member_ids.map((id) => users.get(id)).filter(Boolean).sort(byName);
    // Members are the desk's staff: requesters are not offered (they are never assigned).
    const candidates = [...users.values()].filter((u) => u.active && isStaff(u) && !group.member_ids.includes(u.id))
      .sort(byName);
    const pick = h("select", { name: "user_id" },
      h("option", { value: "" }, candidates.length ? t("groups.members.choose") : t("groups.members.everyone")),
      candidates.map((u) => h("option", { value: String(u.id) }, `${u.display_name} (${roleLabel(u.role)})`)));
    const pickField = field(t("groups.members.pick"), pick);
    pickField.dataset.field = "user_id";
    const add = h("form", { class: "inline-form", novalidate: true, "aria-label": t("groups.members.add") }, pickField,
      h("button", { type: "submit", class: "btn btn-primary", disabled: !candidates.length }, t("groups.members.add")));
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearNotice();
      clearFieldErrors(add);
      if (!pick.value) {
        showFieldErrors([[pickField, t("groups.error.pick")]]);
        return;
      }
      const chosen = users.get(Number(pick.value));
      try {
        const updated = await busy(add, () => api.put(`/api/v1/groups/${group.id}/members/${pick.value}`));
        replaceGroup(updated);
        showSuccess(t("groups.members.added", { name: chosen.display_name, group: updated.name }));
      } catch (error) {
        placeError(add, error, { byCode: { validation_error: "user_id" } });
      }
    });
    const body = members.length
      ? h("table", { class: "table table-stack", "aria-label": t("groups.members.table") },
        h("thead", {}, h("tr", {}, [t("groups.col.name"), t("groups.col.username"), t("groups.col.role"),
          h("span", { class: "sr-only" }, t("groups.col.actions"))].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, members.map((u) => h("tr", { "data-user": u.username },
          h("td", {}, u.display_name, u.id === group.manager_id ? h("span", { class: "tag" }, t("groups.manager.tag"))
            : null),
          h("td", { class: "mono", "data-label": t("groups.col.username") }, u.username),
          h("td", { "data-label": t("groups.col.role") }, h("span", { class: `badge badge-${u.role}` }, roleLabel(u.role))),
          h("td", { class: "cell-actions" }, h("button", { type: "button", class: "btn btn-small btn-danger-ghost",
            "aria-label": t("groups.members.remove_named", { name: u.display_name }),
            onclick: () => removeMember(group, u) }, t("groups.members.remove")))))))
      : emptyState("users", t("groups.members.empty"), t("groups.members.empty_text"));
    return panel(tn("groups.members.title", members.length), [add, h("div", { class: "table-wrap" }, body)]);
  }

  async function removeMember(group, member) {
    clearNotice();
    const done = await guarded(async () => {
      await api.delete(`/api/v1/groups/${group.id}/members/${member.id}`);
      return true;
    });
    if (!done) return;
    replaceGroup({ ...group, member_ids: group.member_ids.filter((id) => id !== member.id) });
    showSuccess(t("groups.members.removed", { name: member.display_name, group: group.name }));
  }

  async function remove(group) {
    const ok = await confirmDialog(t("groups.delete"),
      tn("groups.delete_confirm", group.member_ids.length, { name: group.name }),
      { confirmLabel: t("groups.delete"), danger: true });
    if (!ok) return;
    clearNotice();
    const done = await guarded(async () => {
      await api.delete(`/api/v1/groups/${group.id}`);
      return true;
    });
    if (!done) return;
    groups = groups.filter((g) => g.id !== group.id);
    select(null);
    showSuccess(t("groups.deleted", { name: group.name }));
  }

  function renderDetail() {
    const group = groups.find((g) => g.id === selected);
    if (!group) {
      replace(detail, panel(null, emptyState("group", groups.length ? t("groups.select") : t("groups.none"),
        groups.length ? t("groups.select_text") : t("groups.none_text"))));
      return;
    }
    const edit = groupForm({ group, users, onSubmit: async (v) => {
      const patch = {};
      if (v.name !== group.name) patch.name = v.name;
      if (v.description !== group.description) patch.description = v.description;
      const manager = v.manager_id ? Number(v.manager_id) : null;
      if (manager !== group.manager_id) patch.manager_id = manager;
      if (v.auto_assign !== group.auto_assign) patch.auto_assign = v.auto_assign;
      if (!Object.keys(patch).length) {
        showSuccess(t("groups.unchanged"));
        return;
      }
      const updated = await api.patch(`/api/v1/groups/${group.id}`, patch);
      replaceGroup(updated);
      showSuccess(t("groups.saved", { name: updated.name }));
    } });
    replace(detail, h("div", { class: "stack-lg" },
      panel(group.name, edit, { actions: iconButton("trash", t("groups.delete"), {
        class: "btn btn-danger-ghost", onclick: () => remove(group) }) }),
      membersPanel(group),
      user.role === "admin" ? policyPanel(group) : null,
      user.role === "admin" ? toolboxPanel(group) : null,
      user.role === "admin" ? rulePanel(group) : null));
  }

  function rulePanel(group) {
    if (!rule || rule.groupId !== group.id) {
      rule = { groupId: group.id, el: bindingRulePanel(group.id,
        () => (groups.find((g) => g.id === group.id) || group).name) };
    }
    return rule.el;
  }

  function toolboxPanel(group) {
    if (!toolbox || toolbox.groupId !== group.id) {
      toolbox = { groupId: group.id, el: toolboxPolicyPanel(group.id,
        () => (groups.find((g) => g.id === group.id) || group).name) };
    }
    return toolbox.el;
  }

  function policyPanel(group) {
    if (!policy || policy.groupId !== group.id) {
      policy = { groupId: group.id, el: remotePolicyPanel(group.id,
        () => (groups.find((g) => g.id === group.id) || group).name) };
    }
    return policy.el;
  }

  function create() {
    const dialog = openModal(t("groups.new"), groupForm({ inModal: true, users, onSubmit: async (v) => {
      const created = await api.post("/api/v1/groups", { name: v.name, description: v.description,
        auto_assign: v.auto_assign });
      dialog.close();
      groups = [...groups, created];
      select(created.id);
      showSuccess(t("groups.created", { name: created.name }));
    } }));
  }

  root.append(h("div", { class: "master-detail" },
    panel(t("groups.title"), list, { actions: iconButton("plus", t("groups.new"), { class: "btn btn-primary btn-small",
      onclick: create }), cls: "master" }),
    detail));
  replace(list, h("li", { class: "list-empty" }, t("groups.loading")));

  (async () => {
    const loaded = await guarded(() => Promise.all([allGroups(), allUsers()]));
    if (!loaded) return;
    [groups] = loaded;
    users = new Map(loaded[1].map((u) => [u.id, u]));
    renderList();
    renderDetail();
  })();
}
