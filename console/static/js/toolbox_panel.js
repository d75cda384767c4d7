// The ticket page's "Toolbox" panel: open a terminal or the Files tool on a linked device
// (reason, and as root where the device group's policy allows it), and the ticket's tools:
// open a live one (type or copy files if you opened it, watch or list otherwise) or read an
// ended terminal's transcript.

import { api } from "./api.js";
import { field, formValues, h, replace } from "./dom.js";
import { dateTime } from "./format.js";
import { FieldProblem, onSubmit } from "./forms.js";
import { labels, t } from "./i18n.js";
import { icon } from "./icons.js";
import { guarded } from "./notice.js";
import { openSystemTool } from "./system_tools.js";
import { openFiles } from "./files.js";
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

  // A live tool in its dialog: the terminal, the files, or the process and services tools.
  const opener = (kind) => (kind === "terminal" ? openTerminal : kind === "files" ? openFiles : openSystemTool);
  const show = (s) => opener(s.kind)(s, { onEnded: () => refresh(ticket) });

  function start(devices, kind = "terminal") {
    const device = h("select", { name: "device_id" }, devices.map((d) =>
      h("option", { value: String(d.id) }, d.hostname)));
    const title = kind === "terminal" ? t("toolbox.open_title")
      : kind === "files" ? t("files.open_title") : t(`systools.open_title.${kind}`);
    const form = h("form", { class: "stack", "aria-label": title },
      devices.length > 1 ? field(t("remote.device"), device) : null,
      field(t("remote.reason"), h("textarea", { name: "reason", required: true, maxlength: 500, rows: 2 })),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "as_root" }), " ",
        kind === "files" ? t("files.as_root") : t("toolbox.as_root")),
      h("p", { class: "muted small" }, t("toolbox.consent_hint")),
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "btn btn-primary" }, icon(kind === "files" ? "paperclip" : "keyboard"),
          kind === "terminal" ? t("toolbox.open") : kind === "files" ? t("files.open") : t(`systools.open.${kind}`))));
    const dialog = openModal(title, form);
    // A refusal naming a field (the reason, root the policy does not allow) is said next to it.
    onSubmit(form, async () => {
      const values = formValues(form);
      const body = { kind, reason: String(values.reason).trim(),
        as_root: Boolean(form.elements.as_root.checked) };
      if (devices.length > 1) body.device_id = Number(values.device_id);
      let created;
      try {
        created = await api.post(`/api/v1/tickets/${ticket.id}/tool-sessions`, body);
      } catch (error) {
        if (error.field !== "as_root") throw error;
        throw new FieldProblem(form.elements.as_root, t("toolbox.root_not_allowed"));
      }
      dialog.close();
      show(created);
      refresh(ticket);
    });
  }

  function line(s) {
    const what = ["terminal", "files"].includes(s.kind) ? t(`toolbox.kind.${s.kind}${s.as_root ? "_root" : ""}`)
      : t(`systools.kind.${s.kind}${s.as_root ? "_root" : ""}`);
    if (s.state !== "ended") {
      return h("li", {}, h("button", { type: "button", class: "btn btn-small btn-link", "data-tool-session": s.id,
        onclick: () => show(s) }, icon(s.kind === "files" ? "paperclip" : "keyboard"),
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
    const withFiles = reachable.filter((d) => (d.tools_available || []).includes("files"));
    const button = h("button", { type: "button", class: "btn btn-small", "data-action": "open-terminal",
      disabled: final || !ready.length || null, onclick: () => start(ready) }, icon("keyboard"), t("toolbox.open_terminal"));
    const filesButton = h("button", { type: "button", class: "btn btn-small", "data-action": "open-files",
      disabled: final || !withFiles.length || null, onclick: () => start(withFiles, "files") }, icon("paperclip"), t("files.open_files"));
    const hint = final ? t("remote.hint.final")
      : !tk.device_ids.length ? t("remote.hint.no_device")
        : !reachable.length ? t("remote.hint.offline")
          : !ready.length ? t("toolbox.hint.unavailable") : null;
    const others = ["processes", "services"].map((kind) => {
      const able = reachable.filter((d) => (d.tools_available || []).includes(kind));
      return able.length && !final ? h("button", { type: "button", class: "btn btn-small", "data-action": `open-${kind}`,
        onclick: () => start(able, kind) }, t(`systools.open.${kind}`)) : null;
    });
    const filesHint = !final && reachable.length && !withFiles.length ? t("files.hint.unavailable") : null;
    replace(el, h("div", { class: "stack" }, h("div", { class: "toolbox-actions" }, button, filesButton, others),
      hint ? h("span", { class: "muted small" }, hint) : null,
      filesHint ? h("span", { class: "muted small" }, filesHint) : null),
      sessions.length ? h("ul", { class: "remote-list" }, sessions.slice(0, 5).map(line)) : null, scripts.el);
    await scripts.refresh(tk, devices, final);
  }

  return { el, refresh: (tk) => guarded(() => refresh(tk)) };
}
