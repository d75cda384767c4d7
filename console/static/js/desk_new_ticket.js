// The technician's New ticket dialog, opened from the desk's toolbar.

import { api } from "./api.js";
import { allGroups, allUsers } from "./directory.js";
import { busy, field, formValues, h, replace } from "./dom.js";
import { clearFieldErrors, fieldError, focusFirstError, placeError } from "./forms.js";
import { t } from "./i18n.js";
import { clearNotice, guarded } from "./notice.js";
import {
  KIND_LABELS, LEVEL_LABELS, categoryList, categorySelect, parseTags, previewPriority, priorityBadge,
} from "./tickets.js";
import { openModal } from "./ui.js";

let directory = null; // {users, groups, categories}, loaded when the dialog first opens

async function loadDirectory() {
  const [users, groups, categories] = await Promise.all([allUsers(), allGroups(), categoryList()]);
  directory = { users: users.filter((u) => u.active), groups, categories };
  return directory;
}

/** Open the technician's New ticket dialog; go to the ticket once it is created. */
export async function newTicket(me) {
  clearNotice();
  const dir = await guarded(loadDirectory);
  if (!dir) return;
  const byName = (a, b) => a.display_name.localeCompare(b.display_name);
  const staff = dir.users.filter((u) => u.role !== "requester").sort(byName);
  const everyone = [...dir.users].sort(byName);
  const level = (name, label) => field(label, h("select", { name },
    [1, 2, 3].map((v) => h("option", { value: String(v), selected: v === 3 }, LEVEL_LABELS[v]))));
  const preview = h("span", { class: "priority-preview", title: t("desk.new.priority_hint") });
  const form = h("form", { class: "stack", "aria-label": t("desk.new.title"), novalidate: true },
    h("div", { class: "row-2" },
      field(t("desk.new.kind"), h("select", { name: "kind" },
        Object.entries(KIND_LABELS).map(([k, label]) => h("option", { value: k }, label)))),
      field(t("desk.new.category"), categorySelect(dir.categories, null))),
    field(t("desk.new.ticket_title"), h("input", { name: "title", required: true, maxlength: 200,
      placeholder: t("desk.new.title_placeholder") })),
    field(t("desk.new.description"), h("textarea", { name: "description", rows: 4, maxlength: 20000 })),
    h("div", { class: "row-3" }, level("impact", t("desk.new.impact")), level("urgency", t("desk.new.urgency")),
      h("div", { class: "field" }, h("span", { class: "field-label" }, t("desk.new.priority")), preview)),
    h("div", { class: "row-2" },
      field(t("desk.new.requester"), h("select", { name: "requester_id" },
        everyone.map((u) => h("option", { value: String(u.id), selected: u.id === me.id },
          `${u.display_name} (${u.username})`)))),
      field(t("desk.new.assignee"), h("select", { name: "assignee_id" },
        h("option", { value: "" }, t("desk.unassigned")),
        staff.map((u) => h("option", { value: String(u.id) },
          u.id === me.id ? t("desk.bulk.me", { name: u.display_name }) : u.display_name))))),
    h("div", { class: "row-2" },
      field(t("desk.new.group"), h("select", { name: "group_id" }, h("option", { value: "" }, t("desk.bulk.no_group")),
        dir.groups.map((g) => h("option", { value: String(g.id) }, g.name)))),
      field(t("desk.new.tags"), h("input", { name: "tags", maxlength: 400, placeholder: t("desk.new.tags_placeholder") }),
        t("desk.new.tags_hint"))),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("desk.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, t("desk.new.create"))));
  const showPreview = () => {
    const v = formValues(form);
    replace(preview, priorityBadge(previewPriority(v.impact, v.urgency)));
  };
  form.addEventListener("change", showPreview);
  showPreview();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    clearFieldErrors(form);
    const v = formValues(form);
    if (!v.title) {
      fieldError(form.elements.title, t("desk.new.title_needed"));
      focusFirstError(form);
      return;
    }
    const body = { kind: v.kind, title: v.title, description: v.description, impact: Number(v.impact),
      urgency: Number(v.urgency), requester_id: Number(v.requester_id), tags: parseTags(v.tags) };
    if (v.category_id) body.category_id = Number(v.category_id);
    if (v.assignee_id) body.assignee_id = Number(v.assignee_id);
    if (v.group_id) body.group_id = Number(v.group_id);
    try {
      const created = await busy(form, () => api.post("/api/v1/tickets", body));
      dialog.close();
      location.hash = `#/desk/tickets/${created.id}`; // the ticket page is the confirmation
    } catch (error) {
      placeError(form, error);
    }
  });
  const dialog = openModal(t("desk.new.title"), form);
  dialog.classList.add("modal-wide");
  form.elements.title.focus();
}
