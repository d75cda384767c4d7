// The ticket page's "Remote session" panel: which linked devices are online, the start
// button (with reason and mode), and the ticket's sessions with a link to the viewer.

import { api } from "./api.js";
import { field, formValues, h, replace } from "./dom.js";
import { dateTime } from "./format.js";
import { onSubmit } from "./forms.js";
import { labels, t } from "./i18n.js";
import { icon } from "./icons.js";
import { guarded } from "./notice.js";
import { clockText } from "./recording.js";
import { openModal } from "./ui.js";

export const OUTCOMES = labels("remote.outcome", ["completed", "denied", "timeout", "unavailable", "busy",
  "agent_offline", "failed", "withdrawn"]);

/** Return the "play the recording" link of an ended session (null when there is none). */
export function recordingLink(session) {
  const rec = session.recording;
  if (!rec || rec.state !== "ready") return null;
  return [" \u00b7 ", h("a", { href: `#/desk/remote/${session.id}/recording`, "data-recording": session.id },
    icon("play"), t("remote.recording_link", { duration: clockText(rec.duration_seconds * 1000) }))];
}

/** The reason and mode fields of a form that starts a session (names: reason, mode). */
export function sessionFields() {
  return [
    field(t("remote.reason"), h("textarea", { name: "reason", required: true, maxlength: 500, rows: 2 })),
    field(t("remote.mode"), h("select", { name: "mode" },
      h("option", { value: "view" }, t("remote.mode.view")), h("option", { value: "control" }, t("remote.mode.view_control")))),
    h("p", { class: "muted small" }, t("remote.consent_hint")),
  ];
}

/**
 * Start a session on a ticket's device (`deviceId`, or its only online one), close the
 * start `dialog` and open the viewer. The server checks rights and the device's link.
 */
export async function startSession(ticketId, { reason, mode, deviceId = null, dialog = null }) {
  const body = { reason, mode };
  if (deviceId !== null) body.device_id = deviceId;
  const created = await api.post(`/api/v1/tickets/${ticketId}/remote-sessions`, body);
  if (dialog) dialog.close();
  location.hash = `#/desk/remote/${created.id}`;
  return created;
}

/** Return {el, refresh(ticket)} for a ticket's remote-session panel. */
export function remotePanel() {
  const el = h("div", { class: "remote-panel" });
  let ticket = null;

  function start(devices) {
    const device = h("select", { name: "device_id" }, devices.map((d) =>
      h("option", { value: String(d.id) }, d.hostname)));
    const form = h("form", { class: "stack", "aria-label": t("remote.start_title") },
      devices.length > 1 ? field(t("remote.device"), device) : null,
      sessionFields(),
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "btn btn-primary" }, icon("monitor"), t("remote.start"))));
    const dialog = openModal(t("route.remote"), form);
    // A refusal naming a field (the reason, the device) is said next to it.
    onSubmit(form, async () => {
      const values = formValues(form);
      await startSession(ticket.id, { reason: values.reason, mode: values.mode,
        deviceId: devices.length > 1 ? Number(values.device_id) : null, dialog });
    });
  }

  async function refresh(tk) {
    ticket = tk;
    const final = ["resolved", "closed", "cancelled"].includes(tk.status);
    const [devices, sessions] = await Promise.all([
      Promise.all(tk.device_ids.map(async (did) => {
        try {
          return (await api.get(`/api/v1/devices/${did}`, { inventory: "false" })).device;
        } catch {
          return null;
        }
      })),
      // null: the caller may not open or list this ticket's sessions (403).
      api.get(`/api/v1/tickets/${tk.id}/remote-sessions`).then((r) => r.items)
        .catch((error) => (error.status === 403 ? null : [])),
    ]);
    if (sessions === null) {
      replace(el, h("p", { class: "muted small", "data-remote": "no-rights" },
        t("remote.no_rights")));
      return;
    }
    const reachable = devices.filter((d) => d && d.online && !d.revoked_at);
    const online = reachable.filter((d) => d.remote_available);
    const running = sessions.filter((s) => s.state !== "ended");
    const startButton = h("button", { type: "button", class: "btn btn-small", "data-action": "start-remote",
      disabled: final || !online.length || running.length > 0 || null, onclick: () => start(online) },
    icon("monitor"), t("remote.start_session"));
    const hint = final ? t("remote.hint.final")
      : !tk.device_ids.length ? t("remote.hint.no_device")
        : !reachable.length ? t("remote.hint.offline")
          : !online.length ? t("remote.hint.unavailable") : null;
    replace(el,
      h("div", { class: "stack" }, startButton, hint ? h("span", { class: "muted small" }, hint) : null),
      sessions.length ? h("ul", { class: "remote-list" }, sessions.slice(0, 5).map((s) => h("li", {},
        s.state === "ended"
          ? h("span", {}, dateTime(s.created_at), " \u00b7 ", OUTCOMES[s.outcome] || s.outcome || t("remote.ended"),
            recordingLink(s))
          : h("a", { href: `#/desk/remote/${s.id}`, "data-session": s.id }, icon("monitor"),
            s.state === "active" ? t("remote.live_open") : t("remote.waiting_open"),
            s.recording ? h("span", { class: "remote-recorded" }, ` \u25cf ${t("remote.recorded")}`) : null),
        h("span", { class: "muted" }, s.technician ? s.technician.display_name : "")))) : null);
  }

  return { el, refresh: (tk) => guarded(() => refresh(tk)) };
}
