// Admin → Groups: list, create, rename/describe, delete, and manage members.

import { api } from "../api.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { allGroups, allUsers } from "../directory.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import { remotePolicyPanel } from "../remote_policy.js";
import { confirmDialog, emptyState, iconButton, openModal, panel, roleBadge } from "../ui.js";

const byName = (a, b) => a.display_name.localeCompare(b.display_name);

function groupForm({ group = null, onSubmit, inModal = false }) {
  const form = h("form", { class: "stack", "aria-label": group ? "Edit group" : "New group" },
    field("Name", h("input", { name: "name", required: true, maxlength: 100,
      value: group ? group.name : null })),
    field("Description", h("textarea", { name: "description", rows: 3, maxlength: 1000 },
      group ? group.description : "")),
    h("div", { class: "form-actions" },
      inModal ? h("button", { type: "button", class: "btn", onclick: () => form.closest("dialog")?.close() },
        "Cancel") : null,
      h("button", { type: "submit", class: "btn btn-primary" }, group ? "Save" : "Create group")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    try {
      await busy(form, () => onSubmit(formValues(form)));
    } catch (error) {
      showError(error);
    }
  });
  return form;
}

/** Fill the Groups view; `params[0]` is the selected group's id, if any. */
export function groupsView(root, { user, params }) {
  let groups = [];
  let policy = null; // {groupId, el}: kept while the same group is shown (unsaved choice)
  let users = new Map();
  let selected = params[0] ? Number(params[0]) : null;

  const list = h("ul", { class: "list", "aria-label": "Groups" });
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
      replace(list, h("li", { class: "list-empty" }, "No groups yet."));
      return;
    }
    replace(list, groups.map((g) => {
      const link = h("a", { href: url(g.id), class: "list-link",
        "aria-current": g.id === selected ? "true" : null },
        h("span", { class: "list-name" }, g.name),
        h("span", { class: "count" }, String(g.member_ids.length)));
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
    const candidates = [...users.values()].filter((u) => u.active && !group.member_ids.includes(u.id))
      .sort(byName);
    const pick = h("select", { name: "user_id", required: true, "aria-label": "User to add" },
      h("option", { value: "" }, candidates.length ? "Choose a user\u2026" : "Everyone is a member"),
      candidates.map((u) => h("option", { value: String(u.id) }, `${u.display_name} (${u.username})`)));
    const add = h("form", { class: "inline-form", "aria-label": "Add member" }, pick,
      h("button", { type: "submit", class: "btn btn-primary", disabled: !candidates.length }, "Add member"));
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearNotice();
      const user = users.get(Number(pick.value));
      try {
        const updated = await busy(add, () => api.put(`/api/v1/groups/${group.id}/members/${pick.value}`));
        replaceGroup(updated);
        showSuccess(`${user.display_name} added to ${updated.name}.`);
      } catch (error) {
        showError(error);
      }
    });
    const body = members.length
      ? h("table", { class: "table", "aria-label": "Members" },
        h("thead", {}, h("tr", {}, ["Name", "User name", "Role", ""].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, members.map((u) => h("tr", { "data-user": u.username },
          h("td", {}, u.display_name),
          h("td", { class: "mono" }, u.username),
          h("td", {}, roleBadge(u.role)),
          h("td", { class: "cell-actions" }, h("button", { type: "button", class: "btn btn-small btn-danger-ghost",
            "aria-label": `Remove ${u.username}`, onclick: () => removeMember(group, u) }, "Remove"))))))
      : emptyState("users", "No members", "Add technicians to this group to route tickets to it.");
    return panel(`Members (${members.length})`, [add, h("div", { class: "table-wrap" }, body)]);
  }

  async function removeMember(group, user) {
    clearNotice();
    const done = await guarded(async () => {
      await api.delete(`/api/v1/groups/${group.id}/members/${user.id}`);
      return true;
    });
    if (!done) return;
    replaceGroup({ ...group, member_ids: group.member_ids.filter((id) => id !== user.id) });
    showSuccess(`${user.display_name} removed from ${group.name}.`);
  }

  async function remove(group) {
    const ok = await confirmDialog("Delete group",
      `Delete the group "${group.name}"? Its ${group.member_ids.length} member(s) stay as users.`,
      { confirmLabel: "Delete group", danger: true });
    if (!ok) return;
    clearNotice();
    const done = await guarded(async () => {
      await api.delete(`/api/v1/groups/${group.id}`);
      return true;
    });
    if (!done) return;
    groups = groups.filter((g) => g.id !== group.id);
    select(null);
    showSuccess(`Group "${group.name}" deleted.`);
  }

  function renderDetail() {
    const group = groups.find((g) => g.id === selected);
    if (!group) {
      replace(detail, panel(null, emptyState("group", groups.length ? "Select a group" : "No groups yet",
        groups.length ? "Pick a group on the left to edit it and manage its members."
          : "Groups are teams of technicians that tickets are assigned to.")));
      return;
    }
    const edit = groupForm({ group, onSubmit: async (v) => {
      const patch = {};
      if (v.name !== group.name) patch.name = v.name;
      if (v.description !== group.description) patch.description = v.description;
      if (!Object.keys(patch).length) return;
      const updated = await api.patch(`/api/v1/groups/${group.id}`, patch);
      replaceGroup(updated);
      showSuccess(`Group "${updated.name}" saved.`);
    } });
    replace(detail, h("div", { class: "stack-lg" },
      panel(group.name, edit, { actions: iconButton("trash", "Delete group", {
        class: "btn btn-danger-ghost", onclick: () => remove(group) }) }),
      membersPanel(group),
      user.role === "admin" ? policyPanel(group) : null));
  }

  function policyPanel(group) {
    if (!policy || policy.groupId !== group.id) {
      policy = { groupId: group.id, el: remotePolicyPanel(group.id,
        () => (groups.find((g) => g.id === group.id) || group).name) };
    }
    return policy.el;
  }

  function create() {
    const dialog = openModal("New group", groupForm({ inModal: true, onSubmit: async (v) => {
      const created = await api.post("/api/v1/groups", { name: v.name, description: v.description });
      dialog.close();
      groups = [...groups, created];
      select(created.id);
      showSuccess(`Group "${created.name}" created.`);
    } }));
  }

  root.append(h("div", { class: "master-detail" },
    panel("Groups", list, { actions: iconButton("plus", "New group", { class: "btn btn-primary btn-small",
      onclick: create }), cls: "master" }),
    detail));
  replace(list, h("li", { class: "list-empty" }, "Loading\u2026"));

  (async () => {
    const loaded = await guarded(() => Promise.all([allGroups(), allUsers()]));
    if (!loaded) return;
    [groups] = loaded;
    users = new Map(loaded[1].map((u) => [u.id, u]));
    renderList();
    renderDetail();
  })();
}
