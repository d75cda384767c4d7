// The Files tool of a ticket's device in a wide dialog: a folder's entries with breadcrumbs,
// download, upload (SHA-256 computed here, sent in pieces, resumed after a break), new
// folder, rename and delete. Who did not open the session only lists. See docs/toolbox.md.

import { ApiError, api, request } from "./api.js";
import { field, formValues, h, replace } from "./dom.js";
import { FieldProblem, onSubmit } from "./forms.js";
import { bytes, dateTime } from "./format.js";
import { t } from "./i18n.js";
import { icon } from "./icons.js";
import { guarded } from "./notice.js";
import { currentUser } from "./session.js";
import { confirmDialog, openModal } from "./ui.js";

const PIECE = 4 * 1024 * 1024; // bytes per upload request
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// The device's refusals of a new name, said by the name field in the console's words.
const NAME_CODES = ["exists", "bad_path", "outside_root"];

/**
 * Ask for a name in a small dialog and `save(name)` it there (unless it is `value`
 * unchanged); the dialog stays open with what is wrong said under the field until it is
 * saved or cancelled. Resolve to the name saved, or null.
 */
function askName(title, label, value, submitLabel, save) {
  return new Promise((resolve) => {
    let answer = null;
    const input = h("input", { name: "name", required: true, maxlength: 255, value, autocomplete: "off" });
    const form = h("form", { class: "stack", "aria-label": title }, field(label, input),
      h("div", { class: "form-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, submitLabel)));
    const dialog = openModal(title, form, { onClose: () => resolve(answer) });
    onSubmit(form, async () => {
      const name = String(formValues(form).name).trim();
      if (name.includes("/") || name === "." || name === "..") throw new FieldProblem(input, t("files.bad_name"));
      if (name !== value) {
        try {
          await save(name);
        } catch (error) {
          if (!(error instanceof ApiError) || !NAME_CODES.includes(error.code)) throw error;
          throw new FieldProblem(input, t(`files.refused.${error.code}`, { name }));
        }
        answer = name;
      }
      dialog.close();
    });
    input.focus();
    input.select();
  });
}

async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const join = (folder, name) => (folder.endsWith("/") ? folder + name : `${folder}/${name}`);

/** Open a files session `session` (from the API) in a dialog; return the dialog. */
export function openFiles(session, { onEnded = null } = {}) {
  const base = `/api/v1/tool-sessions/${session.id}/files`;
  const me = session.technician ? session.technician.id : null;
  const state = h("span", { class: "terminal-state", "data-state": session.state }, t(`toolbox.state.${session.state}`));
  const crumbs = h("nav", { class: "files-crumbs", "aria-label": t("files.location") });
  const list = h("div", { class: "table-wrap files-list" });
  const progress = h("progress", { max: 1, value: 0, hidden: true, "aria-label": t("files.progress") });
  const progressText = h("span", { class: "muted small", "aria-live": "polite" });
  const picker = h("input", { type: "file", class: "visually-hidden", "data-files": "picker", tabindex: -1 });
  const uploadBtn = h("button", { type: "button", class: "btn btn-small", "data-action": "upload" }, icon("plus"), t("files.upload"));
  const folderBtn = h("button", { type: "button", class: "btn btn-small", "data-action": "new-folder" }, t("files.new_folder"));
  const endBtn = h("button", { type: "button", class: "btn btn-small btn-danger", "data-action": "end-files" }, icon("x"), t("files.end"));
  const toolbar = h("div", { class: "terminal-toolbar files-toolbar" },
    h("span", {}, h("strong", {}, session.device_name), " \u00b7 ", session.ticket_number, " \u00b7 ", state),
    h("span", { class: "terminal-controls" }, uploadBtn, folderBtn, endBtn, picker));
  const dialog = openModal(t("files.title", { name: session.device_name }),
    h("div", { class: "stack files-box", "data-files-session": session.id }, toolbar, crumbs,
      h("div", { class: "files-progress" }, progress, progressText), list));
  dialog.classList.add("modal-wide");
  let here = null; // the listing shown
  let open = true;
  let mine = false;
  dialog.addEventListener("close", () => { open = false; });

  function setState(value) {
    state.dataset.state = value;
    state.textContent = t(`toolbox.state.${value}`);
    const off = value !== "active" || !mine;
    uploadBtn.disabled = off;
    folderBtn.disabled = off;
    endBtn.hidden = !mine || value === "ended";
  }

  function showCrumbs(listing) {
    const parts = listing.path.slice(listing.root.length).split("/").filter(Boolean);
    const items = [h("button", { type: "button", class: "btn btn-small btn-link", onclick: () => go(listing.root) }, listing.root)];
    let path = listing.root;
    for (const part of parts) {
      path = join(path, part);
      const target = path;
      items.push(h("span", { class: "muted", "aria-hidden": "true" }, " / "),
        h("button", { type: "button", class: "btn btn-small btn-link", onclick: () => go(target) }, part));
    }
    items[items.length - 1].setAttribute("aria-current", "location");
    replace(crumbs, ...items);
  }

  function row(listing, entry) {
    const path = join(listing.path, entry.name);
    const folder = entry.kind === "folder";
    const name = folder
      ? h("button", { type: "button", class: "btn btn-small btn-link", "data-entry": entry.name, onclick: () => go(path) },
        "\ud83d\udcc1 ", entry.name)
      : h("span", { "data-entry": entry.name }, entry.name, entry.target ? h("span", { class: "muted" }, ` \u2192 ${entry.target}`) : null);
    const actions = [];
    if (mine) {
      if (entry.kind === "file") {
        actions.push(h("a", { class: "btn btn-small", href: `${base}/content?${new URLSearchParams({ path })}`, download: entry.name,
          "aria-label": t("files.download_named", { name: entry.name }), "data-action": "download" }, t("files.download")));
      }
      actions.push(h("button", { type: "button", class: "btn btn-small", "data-action": "rename",
        "aria-label": t("files.rename_named", { name: entry.name }), onclick: () => rename(path, entry.name) }, icon("pencil")),
      h("button", { type: "button", class: "btn btn-small btn-danger", "data-action": "delete",
        "aria-label": t("files.delete_named", { name: entry.name }), onclick: () => remove(path, entry) }, icon("trash")));
    }
    return h("tr", {}, h("td", { class: "files-name" }, name),
      h("td", { class: "files-size" }, folder ? "" : bytes(entry.size)),
      h("td", { class: "files-extra muted small" }, dateTime(new Date(entry.mtime * 1000).toISOString())),
      h("td", { class: "files-extra muted small" }, h("code", {}, entry.mode)),
      h("td", { class: "cell-actions" }, actions));
  }

  function show(listing) {
    here = listing;
    showCrumbs(listing);
    const rows = listing.entries.map((e) => row(listing, e));
    if (listing.parent) {
      rows.unshift(h("tr", {}, h("td", { colspan: 5 }, h("button", { type: "button", class: "btn btn-small btn-link",
        "data-entry": "..", onclick: () => go(listing.parent) }, t("files.up")))));
    }
    replace(list, h("table", { class: "table files-table" },
      h("thead", {}, h("tr", {}, h("th", {}, t("files.name")), h("th", {}, t("files.size")),
        h("th", { class: "files-extra" }, t("files.modified")), h("th", { class: "files-extra" }, t("files.permissions")),
        h("th", {}, h("span", { class: "visually-hidden" }, t("files.actions"))))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("files.empty"))))),
    listing.truncated ? h("p", { class: "muted small" }, t("files.truncated")) : null);
  }

  async function go(path) {
    show(await api.get(base, path ? { path } : {}));
  }

  const refresh = () => guarded(() => go(here ? here.path : null));

  function rename(path, old) {
    guarded(async () => {
      const folder = here.path;
      const name = await askName(t("files.rename_title", { name: old }), t("files.new_name"), old, t("files.rename"),
        (to) => api.post(`${base}/rename`, { path, to: join(folder, to) }));
      if (name) await go(folder);
    });
  }

  function remove(path, entry) {
    guarded(async () => {
      const ok = await confirmDialog(t("files.delete_title"), t(entry.kind === "folder" ? "files.delete_folder_confirm"
        : "files.delete_confirm", { name: entry.name }), { confirmLabel: t("files.delete"), danger: true });
      if (!ok) return;
      await api.post(`${base}/delete`, { path, recursive: entry.kind === "folder" });
      await go(here.path);
    });
  }

  function setProgress(done, total, name) {
    progress.hidden = false;
    progress.max = Math.max(total, 1);
    progress.value = done;
    progressText.textContent = t("files.uploading", { name, done: bytes(done), total: bytes(total) });
  }

  async function upload(file) {
    const path = join(here.path, file.name);
    setProgress(0, file.size, file.name);
    const sha256 = await sha256Hex(file);
    const query = { path, size: file.size, sha256 };
    let tries = 0;
    let { offset } = await api.get(`${base}/upload`, query);
    for (;;) {
      const end = Math.min(file.size, offset + PIECE);
      try {
        const got = await request("PUT", `${base}/content`, { raw: file.slice(offset, end), query: { ...query, offset } });
        offset = got.offset;
        setProgress(offset, file.size, file.name);
        if (got.done) break;
        tries = 0;
      } catch (error) {
        // A broken link or a device still busy with the previous piece: ask where it is.
        const retry = error instanceof ApiError && (error.code === "network_error" || error.code === "offset_mismatch");
        if (!retry || ++tries > 3 || !open) throw error;
        await sleep(500 * tries);
        ({ offset } = await api.get(`${base}/upload`, query));
      }
    }
    progressText.textContent = t("files.uploaded", { name: file.name, size: bytes(file.size) });
    progress.hidden = true;
  }

  uploadBtn.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    const file = picker.files && picker.files[0];
    picker.value = "";
    if (!file || !here) return;
    uploadBtn.disabled = true;
    guarded(async () => {
      try {
        await upload(file);
      } finally {
        uploadBtn.disabled = false;
        if (open) await go(here.path);
      }
    });
  });
  folderBtn.addEventListener("click", () => guarded(async () => {
    const folder = here.path;
    const name = await askName(t("files.new_folder"), t("files.folder_name"), "", t("files.create"),
      (made) => api.post(`${base}/folder`, { path: join(folder, made) }));
    if (name) await go(folder);
  }));
  endBtn.addEventListener("click", () => guarded(async () => {
    await api.post(`/api/v1/tool-sessions/${session.id}/end`);
    setState("ended");
    if (onEnded) onEnded();
  }));

  guarded(async () => {
    let current = session;
    // The user may be asked first: wait until the session opens (or ends).
    while (open && current.state === "requested") {
      setState("requested");
      replace(list, h("p", { class: "muted" }, t("files.waiting")));
      await sleep(1000);
      current = await api.get(`/api/v1/tool-sessions/${session.id}`);
    }
    const who = currentUser();
    mine = Boolean(who && me !== null && who.id === me);
    setState(current.state);
    if (current.state !== "active") {
      replace(list, h("p", { class: "muted" }, t("files.not_open")));
      if (onEnded) onEnded();
      return;
    }
    await go(null);
  });
  dialog.refresh = refresh;
  return dialog;
}
