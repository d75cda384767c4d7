// The device page's "Remote session" dialog: a session always belongs to a ticket, so the
// technician picks one of the device's open tickets (or creates one for the device), gives
// a reason and a mode, and the session starts as it does from the ticket page. What is
// missing or refused about a field is said next to it (forms.js).

import { api } from "./api.js";
import { allGroups } from "./directory.js";
import { h, replace } from "./dom.js";
import { FieldProblem, onSubmit } from "./forms.js";
import { t } from "./i18n.js";
import { icon } from "./icons.js";
import { guarded, showError } from "./notice.js";
import { sessionFields, startSession } from "./remote_panel.js";
import { OPEN_STATUSES, STATUS_LABELS } from "./tickets.js";
import { openModal } from "./ui.js";

const MAX_TICKETS = 50; // open tickets of one device; more than a handful is already unusual
const MAX_LOGINS = 3; // logged-in users looked up to find the device's Deskmate user
const NEW = "new";
const LOGIN = /^[A-Za-z0-9._@-]{1,64}$/;

const chosenTicket = (form) => form.querySelector("input[name=ticket]:checked")?.value;

/**
 * Return the requester a login reported on the device is bound to, as the server decides
 * it (its bindings, by staff or by rule): {login, user} or null. A login the
 * device reports is its word, never an identity: it is not matched to users here.
 */
async function deviceUser(device) {
  for (const login of device.logged_in_users.slice(0, MAX_LOGINS)) {
    if (!LOGIN.test(login)) continue; // not a login the server could bind
    try {
      return await api.get(`/api/v1/devices/${device.id}/bindings/${encodeURIComponent(login)}`);
    } catch (error) {
      if (error.status !== 404) throw error; // 404: bound to nobody
    }
  }
  return null;
}

/** Tell whether `me` may open sessions on a ticket (the server's rule, for the display). */
function mayStart(me, ticket, myGroups) {
  if (me.role === "admin") return true;
  return (ticket.assignee && ticket.assignee.id === me.id)
    || (ticket.group_id !== null && myGroups.has(ticket.group_id));
}

function ticketChoice(ticket, allowed, checked, groupName) {
  const who = ticket.assignee ? t("dr.assigned_to", { name: ticket.assignee.display_name })
    : ticket.group_id !== null ? t("dr.group_unassigned", { group: groupName(ticket.group_id) }) : t("dr.unassigned");
  return h("label", { class: "choice", "data-ticket": ticket.number },
    h("input", { type: "radio", name: "ticket", value: String(ticket.id), checked, disabled: !allowed }),
    h("span", { class: "choice-text" },
      h("strong", {}, `${ticket.number} \u00b7 ${ticket.title}`),
      h("span", { class: "muted small" },
        [STATUS_LABELS[ticket.status] || ticket.status, t("dr.requested_by", { name: ticket.requester.display_name }), who]
          .join(" \u00b7 ")),
      allowed ? null : h("span", { class: "small choice-warning" },
        t("dr.not_allowed"))));
}

/**
 * Open the dialog for `device` (a Device of the API, online and offering remote sessions)
 * as user `me`; on Start, go to the session's viewer.
 */
export function openDeviceSession(device, me) {
  const body = h("div", { class: "stack" }, h("p", { class: "muted" }, t("dr.loading")));
  const dialog = openModal(t("dr.title", { name: device.hostname }), body);
  dialog.classList.add("modal-wide");
  let created = null; // a ticket this dialog created, when starting on it failed
  let kept = null; // {reason, mode} typed before the list was loaded again

  async function load() {
    const [page, groups, requester] = await Promise.all([
      api.get("/api/v1/tickets", { device_id: device.id, status: OPEN_STATUSES.join(","), limit: MAX_TICKETS }),
      allGroups(),
      deviceUser(device).catch(() => null), // a name we cannot match is not an error
    ]);
    const myGroups = new Set(groups.filter((g) => g.member_ids.includes(me.id)).map((g) => g.id));
    const names = new Map(groups.map((g) => [g.id, g.name]));
    render(page.items, myGroups, requester, (gid) => names.get(gid) || `#${gid}`);
  }

  function render(tickets, myGroups, requester, groupName) {
    const allowed = tickets.map((tk) => mayStart(me, tk, myGroups));
    const first = created ? tickets.findIndex((tk) => tk.id === created.id) : allowed.indexOf(true);
    // Checked by start(): inside the choice's label, the browser's rules would name it by the whole choice.
    const title = h("input", { name: "title", maxlength: 200, "aria-required": "true",
      value: t("dr.default_title", { name: device.hostname }), "aria-label": t("dr.title_label") });
    const titleBox = h("span", { class: "new-ticket-title" }, h("span", { class: "small muted" }, t("portal.title")), title);
    const newChoice = h("label", { class: "choice", "data-ticket": NEW },
      h("input", { type: "radio", name: "ticket", value: NEW, checked: first < 0 }),
      h("span", { class: "choice-text" },
        h("strong", {}, t("dr.new_ticket")),
        h("span", { class: "muted small" }, requester
          ? t("dr.new_for_user", { name: requester.user.display_name, login: requester.login, device: device.hostname })
          : t("dr.new_for_me", { device: device.hostname })),
        titleBox));
    const form = h("form", { class: "stack", "aria-label": t("remote.start_title") },
      tickets.length ? null : h("p", { class: "remote-no-ticket" }, icon("ticket"),
        t("dr.no_ticket", { name: device.hostname })),
      h("fieldset", { class: "choices choices-1" },
        h("legend", { class: "field-label" }, t("route.ticket")),
        tickets.map((tk, i) => ticketChoice(tk, allowed[i], i === first, groupName)),
        tickets.length >= MAX_TICKETS ? h("p", { class: "muted small" },
          t("dr.newest", { n: MAX_TICKETS })) : null,
        newChoice),
      sessionFields(),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("common.cancel")),
        h("button", { type: "submit", class: "btn btn-primary" }, icon("monitor"), t("remote.start"))));
    const sync = () => {
      const isNew = chosenTicket(form) === NEW;
      title.disabled = !isNew;
      titleBox.hidden = !isNew;
    };
    form.addEventListener("change", sync);
    sync();
    onSubmit(form, () => start(form, requester)); // the reason is checked first, as required
    if (kept) {
      form.elements.reason.value = kept.reason;
      form.elements.mode.value = kept.mode;
    }
    replace(body, form);
    form.elements.reason.focus();
  }

  async function start(form, requester) {
    const chosen = chosenTicket(form);
    const session = { reason: form.elements.reason.value.trim(), mode: form.elements.mode.value,
      deviceId: device.id, dialog };
    const title = form.elements.title.value.trim();
    if (chosen === NEW && !title) {
      throw new FieldProblem(form.elements.title, t("form.error.required", { label: t("portal.title") }));
    }
    let ticketId = Number(chosen);
    if (chosen === NEW) {
      created = await api.post("/api/v1/tickets", { // a refused title is said by its field
        title, device_ids: [device.id],
        requester_id: requester ? requester.user.id : me.id, assignee_id: me.id });
      ticketId = created.id;
    }
    try {
      await startSession(ticketId, session);
    } catch (error) {
      if (chosen !== NEW) throw error; // by its field (the reason), else above the form
      // The ticket stays: list it (chosen) rather than create a second one on retry.
      kept = { reason: session.reason, mode: session.mode };
      await guarded(load);
      showError(t("dr.start_failed", { number: created.number, error: error.message }));
    }
  }

  guarded(load);
  return dialog;
}
