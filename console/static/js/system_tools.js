// The process and services tools of a ticket's device, in a wide dialog: the list the
// device sends (refreshed every 2 s while the dialog is open), sorted and filtered here;
// end or kill a process; start, stop, restart a unit or read its journal; reboot or shut
// down with a delay. Only the technician who opened the tool acts; others watch. Every
// action lands on the ticket's timeline (server/toolbox/system.py). See docs/toolbox.md.

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { bytes, number } from "./format.js";
import { t } from "./i18n.js";
import { icon } from "./icons.js";
import { guarded, sentence, showError, showSuccess } from "./notice.js";
import { currentUser } from "./session.js";
import { confirmDialog, openModal } from "./ui.js";

const REFRESH_MS = 2000;
const SHOWN = 300; // rows drawn at once (the filter finds the rest)
const PROCESS_SORTS = ["cpu", "memory", "pid", "name", "user"];
const UNIT_SORTS = ["name", "active"];

/** Disable `button` while `work` runs (a double click acts once). */
async function pending(button, work) {
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.disabled = false;
  }
}

function actionButton(label, attrs) {
  return h("button", { type: "button", class: "btn btn-small", ...attrs }, label);
}

/** Open a live process or services tool `tool` (from the API) in a dialog. */
export function openSystemTool(tool, { onEnded = null } = {}) {
  const processes = tool.kind === "processes";
  const me = currentUser() ? currentUser().id : null;
  const controller = tool.technician && tool.technician.id === me;
  const state = h("span", { class: "terminal-state", "data-state": tool.state }, t(`toolbox.state.${tool.state}`));
  const filter = h("input", { type: "search", name: "filter", "aria-label": t("systools.filter"),
    placeholder: t("systools.filter") });
  const sorts = processes ? PROCESS_SORTS : UNIT_SORTS;
  const sort = h("select", { name: "sort", "aria-label": t("systools.sort") },
    sorts.map((s) => h("option", { value: s }, t(`systools.sort.${s}`))));
  const count = h("span", { class: "muted small", "data-count": "" });
  const end = h("button", { type: "button", class: "btn btn-small btn-danger", "data-action": "end-tool" },
    icon("x"), t("systools.end"));
  const power = !processes && controller && tool.as_root ? powerControls(tool) : null;
  const body = h("div", { class: "table-wrap systools-table" });
  const journal = h("pre", { class: "systools-journal", hidden: true, "aria-live": "polite" });
  const dialog = openModal(t(processes ? "systools.processes_title" : "systools.services_title",
    { name: tool.device_name }), h("div", { class: "stack" },
    h("div", { class: "terminal-toolbar" },
      h("span", {}, h("strong", {}, tool.device_name), " \u00b7 ", tool.ticket_number, " \u00b7 ", state,
        controller ? null : h("span", { class: "muted small" }, ` ${t("toolbox.read_only")}`)),
      h("span", { class: "terminal-controls" }, end)),
    h("div", { class: "systools-filters" }, filter, sort, count),
    power, body, journal), { onClose: () => { stopped = true; } });
  dialog.classList.add("modal-wide");
  let stopped = false;
  let snapshot = null;

  end.addEventListener("click", () => guarded(async () => {
    await api.post(`/api/v1/tool-sessions/${tool.id}/end`);
    dialog.close();
    if (onEnded) onEnded();
  }));

  async function act(body, label) {
    try {
      const result = await api.post(`/api/v1/tool-sessions/${tool.id}/actions`, body);
      if (result.ok) showSuccess(result.message ? sentence(result.message) : label); // the agent's words
      else showError(new Error(t("systools.refused", { message: result.message, code: result.code })));
      return result;
    } catch (error) {
      showError(error);
      return null;
    }
  }

  function processRow(p) {
    const acts = controller ? h("td", { class: "row-actions" },
      actionButton(t("systools.terminate"), { "data-action": "terminate", "aria-label": t("systools.terminate_pid", { pid: p.pid }),
        onclick: (e) => pending(e.currentTarget, () => act({ action: "terminate", pid: p.pid })) }),
      actionButton(t("systools.kill"), { "data-action": "kill", class: "btn btn-small btn-danger-ghost",
        "aria-label": t("systools.kill_pid", { pid: p.pid }),
        onclick: async (e) => {
          const button = e.currentTarget;
          if (await confirmDialog(t("systools.kill"), t("systools.kill_question", { pid: p.pid, name: p.name }),
            { confirmLabel: t("systools.kill"), danger: true })) pending(button, () => act({ action: "kill", pid: p.pid }));
        } })) : null;
    return h("tr", { "data-pid": p.pid },
      h("td", {}, String(p.pid)), h("td", {}, h("strong", {}, p.name),
        h("div", { class: "muted small systools-command", title: p.command }, p.command)),
      h("td", {}, p.user), h("td", { class: "num" }, `${number(p.cpu)} %`), h("td", { class: "num" }, bytes(p.memory)), acts);
  }

  function unitRow(u) {
    const acts = controller ? h("td", { class: "row-actions" }, ["start", "stop", "restart"].map((a) =>
      actionButton(t(`systools.${a}`), { "data-action": a, "aria-label": t(`systools.${a}_unit`, { unit: u.name }),
        onclick: (e) => pending(e.currentTarget, () => act({ action: a, unit: u.name })) })),
    actionButton(t("systools.journal"), { "data-action": "journal", "aria-label": t("systools.journal_unit", { unit: u.name }),
      onclick: (e) => pending(e.currentTarget, async () => {
        const result = await act({ action: "journal", unit: u.name, lines: 100 });
        if (result && result.ok) {
          journal.hidden = false;
          journal.textContent = result.lines.join("\n") || t("systools.journal_empty");
        }
      }) })) : null;
    return h("tr", { "data-unit": u.name },
      h("td", {}, h("strong", {}, u.name), h("div", { class: "muted small" }, u.description)),
      h("td", {}, u.active), h("td", {}, u.sub), acts);
  }

  function draw() {
    if (!snapshot) return;
    const words = filter.value.trim().toLowerCase();
    const key = sort.value;
    let items = processes ? snapshot.processes : snapshot.units;
    if (words) {
      items = items.filter((x) => (processes ? `${x.pid} ${x.name} ${x.user} ${x.command}`
        : `${x.name} ${x.description} ${x.active} ${x.sub}`).toLowerCase().includes(words));
    }
    const numeric = ["cpu", "memory"].includes(key);
    items = [...items].sort((a, b) => (numeric ? b[key] - a[key]
      : key === "pid" ? a.pid - b.pid : String(a[key]).localeCompare(String(b[key]))));
    count.textContent = t("systools.count", { shown: number(Math.min(items.length, SHOWN)), total: number(items.length) });
    const head = processes
      ? ["pid", "name", "user", "cpu", "memory"].map((c) => h("th", { scope: "col" }, t(`systools.col.${c}`)))
      : ["unit", "active", "sub"].map((c) => h("th", { scope: "col" }, t(`systools.col.${c}`)));
    if (controller) head.push(h("th", { scope: "col" }, t("systools.col.actions")));
    replace(body, h("table", { class: "table", "aria-label": t(processes ? "systools.processes" : "systools.services") },
      h("thead", {}, h("tr", {}, head)),
      h("tbody", {}, items.slice(0, SHOWN).map(processes ? processRow : unitRow))));
  }
  filter.addEventListener("input", draw);
  sort.addEventListener("change", draw);

  async function poll() {
    while (!stopped) {
      try {
        snapshot = await api.get(`/api/v1/tool-sessions/${tool.id}/snapshot`);
        state.dataset.state = snapshot.state;
        state.textContent = t(`toolbox.state.${snapshot.state}`);
        if (!body.contains(document.activeElement)) draw(); // never pull a row from under the keyboard
        if (snapshot.state === "ended") {
          if (onEnded) onEnded();
          return;
        }
      } catch (error) {
        showError(error);
        return;
      }
      await new Promise((resolve) => { setTimeout(resolve, REFRESH_MS); });
    }
  }
  poll();
  return dialog;

  function powerControls(session) {
    const delay = h("select", { name: "delay", "aria-label": t("systools.delay") },
      [60, 300, 900].map((s) => h("option", { value: String(s) }, t("systools.delay_minutes", { n: s / 60 }))));
    const notice = h("input", { type: "text", name: "notice", maxlength: 500, "aria-label": t("systools.notice"),
      placeholder: t("systools.notice") });
    const go = (action) => async (e) => {
      const button = e.currentTarget;
      const ok = await confirmDialog(t(`systools.${action}`), t(`systools.${action}_question`,
        { name: session.device_name, n: Number(delay.value) / 60 }), { confirmLabel: t(`systools.${action}`), danger: true });
      if (ok) pending(button, () => act({ action, delay_seconds: Number(delay.value), notice: notice.value.trim() }));
    };
    return h("div", { class: "systools-filters" }, delay, notice,
      actionButton(t("systools.reboot"), { class: "btn btn-small btn-danger-ghost", "data-action": "reboot", onclick: go("reboot") }),
      actionButton(t("systools.shutdown"), { class: "btn btn-small btn-danger-ghost", "data-action": "shutdown", onclick: go("shutdown") }));
  }
}
