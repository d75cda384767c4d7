// Admin → Groups → a group: may technicians open remote sessions on the group's devices
// without asking the user? (GET/PUT /api/v1/groups/{id}/remote-policy, admins only.)

import { api } from "./api.js";
import { busy, h, replace } from "./dom.js";
import { icon } from "./icons.js";
import { clearNotice, guarded, showError, showSuccess } from "./notice.js";
import { confirmDialog, panel } from "./ui.js";

const DEVICE_PAGE = 200;

function choice(value, title, text, checked) {
  return h("label", { class: "choice", "data-policy": value },
    h("input", { type: "radio", name: "policy", value, checked }),
    h("span", { class: "choice-text" }, h("strong", {}, title), h("span", { class: "muted small" }, text)));
}

function stateBadge(unattended) {
  return unattended
    ? h("span", { class: "badge badge-unattended", "data-policy-state": "unattended" }, "Unattended access")
    : h("span", { class: "badge badge-consent", "data-policy-state": "consent" }, "Asks the user");
}

/**
 * Return the "Remote sessions" panel of group `groupId`; `nameOf()` gives its current name.
 * It loads the policy itself and saves it with a confirmation for unattended access.
 */
export function remotePolicyPanel(groupId, nameOf) {
  const badge = h("span", {});
  const body = h("div", { class: "stack" }, h("p", { class: "muted" }, "Loading\u2026"));
  const el = panel("Remote sessions", body, { actions: badge, cls: "panel-remote-policy" });
  let saved = null; // the stored policy: true = unattended
  let savedRecord = false; // the stored policy: sessions are recorded

  function devicesLine(page) {
    const n = page.items.length;
    const count = page.next_cursor ? `more than ${n} devices` : n === 1 ? "1 device" : `${n} devices`;
    return h("p", { class: "muted small" }, `Applies to the ${count} in this group, whenever a technician `
      + "starts a session from a ticket. Devices in no group always ask the user.");
  }

  function render(page) {
    replace(badge, stateBadge(saved));
    const warning = h("div", { class: "policy-warning", role: "note" }, icon("shield"),
      h("div", {},
        h("strong", {}, "Nobody is asked. "),
        "Any technician with rights on a ticket linked to one of these devices can see its screen, "
        + "and control it, without anyone agreeing. The user still sees the red bar while a "
        + "session runs and can end it, but only if someone is at the screen. Use this for "
        + "kiosks, meeting-room PCs and servers, not for personal machines."));
    const save = h("button", { type: "submit", class: "btn btn-primary" }, "Save policy");
    const form = h("form", { class: "stack", "aria-label": "Remote-session policy" },
      devicesLine(page),
      h("fieldset", { class: "choices choices-1" },
        h("legend", { class: "field-label" }, "When a technician starts a session on one of these devices"),
        choice("consent", "Ask the user for consent (default)",
          "A dialog on the user's screen shows who asks, for which ticket and why; the "
          + "session starts only if the user allows it. No answer in time is a refusal.", !saved),
        choice("unattended", "Allow unattended access",
          "The session starts at once, without asking. Every session is still written to the "
          + "ticket's timeline.", saved)),
      warning,
      h("label", { class: "check" },
        h("input", { type: "checkbox", name: "record", checked: savedRecord }),
        h("span", {}, h("strong", {}, "Record sessions"), h("span", { class: "muted small" },
          " — the screen stream is kept in the data directory for playback by staff with "
          + "rights on the ticket; the user is told in the consent dialog and the indicator."))),
      h("div", { class: "form-actions" }, save));
    const chosen = () => ({
      unattended: form.querySelector("input[name=policy]:checked").value === "unattended",
      record: form.querySelector("input[name=record]").checked,
    });
    const sync = () => {
      const { unattended, record } = chosen();
      warning.hidden = !unattended;
      save.disabled = unattended === saved && record === savedRecord;
    };
    form.addEventListener("change", sync);
    sync();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const { unattended, record } = chosen();
      if (unattended === saved && record === savedRecord) return;
      if (unattended && !saved) {
        const ok = await confirmDialog("Allow unattended access",
          `Allow unattended access to the devices of "${nameOf()}"? Technicians will see and `
          + "control their screens without asking the user.",
          { confirmLabel: "Allow unattended access", danger: true });
        if (!ok) return;
      }
      clearNotice();
      try {
        const policy = await busy(form, () => api.put(`/api/v1/groups/${groupId}/remote-policy`,
          { unattended, record }));
        saved = policy.unattended;
        savedRecord = policy.record;
        render(page);
        showSuccess((saved ? `Remote sessions on the devices of "${nameOf()}" now start without asking`
          : `Remote sessions on the devices of "${nameOf()}" now ask the user first`)
          + (savedRecord ? " and are recorded." : " and are not recorded."));
      } catch (error) {
        showError(error);
      }
    });
    replace(body, form);
  }

  (async () => {
    const loaded = await guarded(async () => {
      const [policy, page] = await Promise.all([
        api.get(`/api/v1/groups/${groupId}/remote-policy`),
        api.get("/api/v1/devices", { group_id: groupId, limit: DEVICE_PAGE }),
      ]);
      saved = policy.unattended;
      savedRecord = policy.record;
      render(page);
      return true;
    });
    if (!loaded) replace(body, h("p", { class: "muted" }, "The policy cannot be shown."));
  })();
  return el;
}
