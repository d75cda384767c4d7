// "Run script" on a ticket's Toolbox panel: pick an approved script, the linked devices to
// run it on and its parameters, then follow each device's run live (state, exit code,
// stdout and stderr); the ticket's recent runs, each with its output.

import { api } from "./api.js";
import { field, h, replace } from "./dom.js";
import { dateTime } from "./format.js";
import { onSubmit as handleSubmit } from "./forms.js";
import { labels, t } from "./i18n.js";
import { icon } from "./icons.js";
import { guarded } from "./notice.js";
import { openModal } from "./ui.js";

export const RUN_OUTCOMES = labels("scripts.outcome", ["succeeded", "failed", "timeout", "cancelled", "denied",
  "unavailable", "busy", "not_permitted", "offline", "skipped", "no_answer"]);
const POLL_MS = 1000;

function stateText(run) {
  if (run.state === "requested") return t("scripts.state.requested");
  if (run.state === "running") return t("scripts.state.running");
  const outcome = RUN_OUTCOMES[run.outcome] || run.outcome || t("scripts.state.ended");
  return run.exit_code === null ? outcome : `${outcome} \u00b7 ${t("scripts.exit_code", { code: run.exit_code })}`;
}

/** One device's run: its state, output and attachment; refreshed in place. */
function runCard(run) {
  const card = h("article", { class: "script-run", "data-run": run.id, "data-device": run.device_name });
  const fill = (r) => {
    card.dataset.state = r.state;
    card.dataset.outcome = r.outcome || "";
    replace(card,
      h("header", { class: "script-run-head" }, h("strong", {}, r.device_name), " ",
        h("span", { class: "badge", "data-state": r.state }, stateText(r)),
        r.account ? h("span", { class: "muted small" }, ` ${t("toolbox.runs_as", { account: r.account })}`) : null),
      r.end_reason ? h("p", { class: "muted small" }, r.end_reason) : null,
      r.stdout ? h("pre", { class: "script-out", "aria-label": t("scripts.stdout") }, r.stdout) : null,
      r.stderr ? h("pre", { class: "script-out script-err", "aria-label": t("scripts.stderr") }, r.stderr) : null,
      r.truncated ? h("p", { class: "muted small" }, t("scripts.truncated")) : null,
      r.attachment ? h("a", { href: r.attachment.url, target: "_blank", rel: "noopener", class: "tl-file" },
        icon("paperclip"), r.attachment.filename) : null,
      r.state !== "ended" ? h("button", { type: "button", class: "btn btn-small", "data-action": "cancel-run",
        onclick: () => guarded(async () => fill(await api.post(`/api/v1/script-runs/${r.id}/cancel`))) },
      t("scripts.cancel_run")) : null);
  };
  fill(run);
  return { el: card, fill };
}

/** Follow runs until all have ended (or the dialog closes). */
function follow(runs, box, dialog, onDone) {
  const cards = runs.map(runCard);
  replace(box, cards.map((c) => c.el));
  let open = true;
  dialog.addEventListener("close", () => { open = false; });
  (async () => {
    let pending = runs.filter((r) => r.state !== "ended");
    while (open && pending.length) {
      await new Promise((resolve) => { setTimeout(resolve, POLL_MS); });
      const fresh = await Promise.all(pending.map((r) => api.get(`/api/v1/script-runs/${r.id}`).catch(() => r)));
      for (const r of fresh) cards[runs.findIndex((x) => x.id === r.id)].fill(r);
      pending = fresh.filter((r) => r.state !== "ended");
    }
    if (onDone) onDone();
  })();
}

function paramControl(p) {
  const name = `param_${p.name}`;
  if (p.type === "boolean") {
    return h("div", { class: "field field-check" }, h("label", {},
      h("input", { type: "checkbox", name, checked: p.default === true }), p.label));
  }
  const input = h("input", { name, type: p.type === "integer" ? "number" : "text", required: p.required || null,
    step: p.type === "integer" ? 1 : null, maxlength: p.type === "text" ? 4096 : null,
    value: p.default === null || p.default === undefined ? "" : String(p.default) });
  return field(p.required ? `${p.label} *` : p.label, input, `PARAM_${p.name.toUpperCase()}`);
}

/** Open the Run script dialog for a ticket; `devices` are its linked devices. */
export async function openRunScript(ticket, devices, { onChanged } = {}) {
  const library = await guarded(() => api.get("/api/v1/scripts"));
  if (!library) return;
  const runnable = library.items.filter((s) => s.approved_version);
  const body = h("div", { class: "stack" });
  const dialog = openModal(t("scripts.run_title"), body);
  dialog.classList.add("modal-wide");
  if (!runnable.length) {
    replace(body, h("p", { class: "muted" }, t("scripts.none_approved")));
    return;
  }
  const select = h("select", { name: "script_id" }, runnable.map((s) =>
    h("option", { value: String(s.id) }, t("scripts.pick_named", { name: s.name, n: s.approved_version }))));
  const params = h("div", { class: "stack" });
  let declared = [];
  async function pick() {
    const s = await guarded(() => api.get(`/api/v1/scripts/${select.value}`));
    if (!s) return;
    const v = s.versions.find((x) => x.approved);
    declared = v.parameters;
    replace(params, v.description ? h("p", { class: "muted small" }, v.description) : null,
      declared.map(paramControl));
  }
  select.addEventListener("change", pick);
  const ready = (d) => d && d.online && !d.revoked_at && (d.tools_available || []).includes("scripts");
  const deviceBoxes = h("fieldset", { class: "stack" }, h("legend", {}, t("scripts.devices")),
    devices.filter(Boolean).map((d) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "device", value: String(d.id), checked: ready(d) || null }), " ", d.hostname,
      ready(d) ? null : h("span", { class: "muted small" }, ` \u00b7 ${d.online ? t("scripts.no_capability") : t("scripts.offline")}`))));
  const form = h("form", { class: "stack", "aria-label": t("scripts.run_title") },
    field(t("scripts.script"), select), params, deviceBoxes,
    field(t("remote.reason"), h("textarea", { name: "reason", required: true, maxlength: 500, rows: 2 })),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "as_root" }), " ", t("scripts.as_root")),
    h("p", { class: "muted small" }, t("scripts.consent_hint")),
    h("div", { class: "form-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, icon("play"), t("scripts.run"))));
  replace(body, form);
  await pick();
  handleSubmit(form, async () => {
    const e = form.elements;
    const values = {};
    for (const p of declared) {
      const control = form.querySelector(`[name="param_${p.name}"]`);
      if (p.type === "boolean") values[p.name] = control.checked;
      else if (control.value !== "") values[p.name] = p.type === "integer" ? Number(control.value) : control.value;
    }
    const ids = [...form.querySelectorAll("input[name=device]:checked")].map((b) => Number(b.value));
    const made = await api.post(`/api/v1/tickets/${ticket.id}/script-runs`, { script_id: Number(select.value),
      device_ids: ids, reason: e.reason.value.trim(), parameters: values, as_root: e.as_root.checked });
    const box = h("div", { class: "stack script-runs", "aria-live": "polite" });
    replace(body, box);
    follow(made.items, box, dialog, onChanged);
    if (onChanged) onChanged();
  });
}

/** Show one finished (or running) run in a dialog. */
function showRun(run) {
  const box = h("div", { class: "stack script-runs" });
  const dialog = openModal(t("scripts.run_named", { name: run.script_name, n: run.version }), box);
  dialog.classList.add("modal-wide");
  follow([run], box, dialog, null);
}

/** Return {el, refresh(ticket, devices, final)}: the Run script button and recent runs. */
export function scriptsPart() {
  const el = h("div", { class: "stack toolbox-scripts" });
  async function refresh(ticket, devices, final) {
    const runs = await api.get(`/api/v1/tickets/${ticket.id}/script-runs`).then((r) => r.items).catch(() => null);
    if (runs === null) {
      replace(el);
      return;
    }
    const ready = devices.filter((d) => d && d.online && !d.revoked_at && (d.tools_available || []).includes("scripts"));
    const button = h("button", { type: "button", class: "btn btn-small", "data-action": "run-script",
      disabled: final || !ready.length || null,
      onclick: () => openRunScript(ticket, devices, { onChanged: () => refresh(ticket, devices, final) }) },
    icon("code"), t("scripts.run_script"));
    replace(el, button,
      runs.length ? h("ul", { class: "remote-list" }, runs.slice(0, 5).map((r) => h("li", {},
        h("button", { type: "button", class: "btn btn-small btn-link", "data-script-run": r.id, onclick: () => showRun(r) },
          icon("code"), `${r.script_name} \u00b7 ${r.device_name}`),
        h("span", { class: "muted" }, ` ${dateTime(r.created_at)} \u00b7 ${stateText(r)}`)))) : null);
  }
  return { el, refresh };
}
