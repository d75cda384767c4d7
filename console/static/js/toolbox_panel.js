// The ticket page's "Toolbox" panel: open a terminal on a linked device (reason, and as
// root where the device group's policy allows it), and the ticket's terminals: open a live
// one (type if you opened it, watch otherwise) or read an ended one's transcript.

import { api } from "./api.js";
import { busy, field, formValues, h, replace } from "./dom.js";
import { dateTime } from "./format.js";
import { labels, t } from "./i18n.js";
import { icon } from "./icons.js";
import { guarded } from "./notice.js";
import { scriptsPart } from "./script_run.js";
import { noRights, openTerminal, openTranscript } from "./terminal.js";
import { openModal } from "./ui.js";

export const TOOL_OUTCOMES = labels("toolbox.outcome", ["completed", "denied", "timeout", "unavailable", "busy",
  "not_permitted", "agent_offline", "failed", "withdrawn"]);

/** Return {el, refresh(ticket)} for a ticket's toolbox panel. */
export function toolboxPanel() {
  const el = h("div", { class: "toolbox-panel" });
  const scripts = scriptsPart(); // Run script and the ticket's script runs (script_run.js)
  let ticket = null;

  function start(devices) {
    const device = h("select", { name: "device_id" }, devices.map((d) =>
      h("option", { value: String(d.id) }, d.hostname)));
    const form = h("form", { class: "stack", "aria-label": t("toolbox.open_title") },
      devices.length > 1 ? field(t("remote.device"), device) : null,
      field(t("remote.reason"), h("textarea", { name: "reason", required: true, maxlength: 500, rows: 2 })),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "as_root" }), " ", t("toolbox.as_root")),
      h("p", { class: "muted small" }, t("toolbox.consent_hint")),
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "btn btn-primary" }, icon("keyboard"), t("toolbox.open"))));
    const dialog = openModal(t("toolbox.open_title"), form);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(form, () => guarded(async () => {
        const values = formValues(form);
        const body = { kind: "terminal", reason: String(values.reason).trim(),
          as_root: Boolean(form.elements.as_root.checked) };
        if (devices.length > 1) body.device_id = Number(values.device_id);
        const created = await api.post(`/api/v1/tickets/${ticket.id}/tool-sessions`, body);
        dialog.close();
        openTerminal(created, { onEnded: () => refresh(ticket) });
        refresh(ticket);
      }));
    });
  }

  function line(s) {
    const what = s.as_root ? t("toolbox.kind.terminal_root") : t("toolbox.kind.terminal");
    if (s.state !== "ended") {
      return h("li", {}, h("button", { type: "button", class: "btn btn-small btn-link", "data-tool-session": s.id,
        onclick: () => openTerminal(s, { onEnded: () => refresh(ticket) }) }, icon("keyboard"),
      s.state === "active" ? t("toolbox.live_open", { what }) : t("toolbox.waiting_open", { what })),
      h("span", { class: "muted" }, s.technician ? ` ${s.technician.display_name}` : ""));
    }
    const transcript = s.transcript && s.transcript.state === "ready"
      ? [" \u00b7 ", h("button", { type: "button", class: "btn btn-small btn-link", "data-transcript": s.id,
        onclick: () => openTranscript(s) }, t("toolbox.transcript"))] : null;
    return h("li", {}, h("span", {}, dateTime(s.created_at), " \u00b7 ", what, " \u00b7 ",
      TOOL_OUTCOMES[s.outcome] || s.outcome || t("toolbox.state.ended")), transcript,
    h("span", { class: "muted" }, s.technician ? ` ${s.technician.display_name}` : ""));
  }

  async function refresh(tk) {
    ticket = tk;
    const final = ["resolved", "closed", "cancelled"].includes(tk.status);
    const [devices, sessions] = await Promise.all([
      Promise.all(tk.device_ids.map((did) => api.get(`/api/v1/devices/${did}`, { inventory: "false" })
        .then((r) => r.device).catch(() => null))),
      api.get(`/api/v1/tickets/${tk.id}/tool-sessions`).then((r) => r.items)
        .catch((error) => (error.status === 403 ? null : [])),
    ]);
    if (sessions === null) {
      noRights(el);
      return;
    }
    const reachable = devices.filter((d) => d && d.online && !d.revoked_at);
    const ready = reachable.filter((d) => (d.tools_available || []).includes("terminal"));
    const button = h("button", { type: "button", class: "btn btn-small", "data-action": "open-terminal",
      disabled: final || !ready.length || null, onclick: () => start(ready) }, icon("keyboard"), t("toolbox.open_terminal"));
    const hint = final ? t("remote.hint.final")
      : !tk.device_ids.length ? t("remote.hint.no_device")
        : !reachable.length ? t("remote.hint.offline")
          : !ready.length ? t("toolbox.hint.unavailable") : null;
    replace(el, h("div", { class: "stack" }, button, hint ? h("span", { class: "muted small" }, hint) : null),
      sessions.length ? h("ul", { class: "remote-list" }, sessions.slice(0, 5).map(line)) : null, scripts.el);
    await scripts.refresh(tk, devices, final);
  }

  return { el, refresh: (tk) => guarded(() => refresh(tk)) };
}
