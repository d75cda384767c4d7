// Admin → Incoming mail: mailboxes (IMAP, or delivered over LMTP/SMTP) with their routing
// and unknown-sender policy, "test" in words; held mail read as text, taken in as a ticket
// for the sender or a chosen requester, or discarded; addresses that bounced, cleared.

import { api } from "../api.js";
import { personPicker, groupSelect, treeOrder, treeSelect } from "../admin_pickers.js";
import { allGroups, allUsers } from "../directory.js";
import { field, formValues, h, replace } from "../dom.js";
import { FieldProblem, onSubmit } from "../forms.js";
import { dateTime } from "../format.js";
import { t, tn } from "../i18n.js";
import { guarded, showError, showSuccess, showWarning } from "../notice.js";
import { mailTabs } from "../mail_tabs.js";
import { confirmDialog, emptyState, iconButton, openModal, panel, statusBadge } from "../ui.js";

const POLICIES = ["", "create", "refuse", "hold"];

function select(name, values, selected, label) {
  return h("select", { name }, values.map((v) => h("option", { value: v, selected: v === selected }, label(v))));
}

function mailboxForm({ box, dir, onSubmit: submit }) {
  const b = box || { kind: "imap", port: 993, security: "tls", folder: "INBOX", done_folder: "",
    host: "", username: "", address: "", name: "", group_id: null, category_id: null, unknown_sender: null,
    active: true, has_password: false, auth: "password", oauth_token_url: "", oauth_client_id: "",
    oauth_scope: "", has_oauth_secret: false, has_refresh_token: false };
  const kind = select("kind", ["imap", "lmtp"], b.kind, (k) => t(`mailin.kind.${k}`));
  const wrap = (path, el) => {
    el.dataset.field = path;
    return el;
  };
  const auth = select("auth", ["password", "oauth2"], b.auth, (a) => t(`mailin.auth.${a}`));
  const secret = (name, label, isSet, max) => wrap(name, field(label, h("input", { name, type: "password",
    maxlength: max, autocomplete: "new-password" }), isSet ? t("mailin.password.keep") : t("mailin.password.none")));
  const passwordPart = h("div", {}, secret("password", t("mailin.field.password"), b.has_password, 1000));
  const oauthPart = h("div", { class: "stack" },
    wrap("oauth_token_url", field(t("mailin.field.token_url"), h("input", { name: "oauth_token_url", maxlength: 500,
      value: b.oauth_token_url, placeholder: "https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token",
      autocapitalize: "none", spellcheck: "false" }), t("mailin.hint.token_url"))),
    h("div", { class: "row-2" },
      wrap("oauth_client_id", field(t("mailin.field.client_id"), h("input", { name: "oauth_client_id", maxlength: 255,
        value: b.oauth_client_id, autocomplete: "off", autocapitalize: "none", spellcheck: "false" }))),
      secret("oauth_client_secret", t("mailin.field.client_secret"), b.has_oauth_secret, 1000)),
    secret("oauth_refresh_token", t("mailin.field.refresh_token"), b.has_refresh_token, 4000),
    wrap("oauth_scope", field(t("mailin.field.scope"), h("input", { name: "oauth_scope", maxlength: 500,
      value: b.oauth_scope, placeholder: "https://outlook.office365.com/.default", autocapitalize: "none",
      spellcheck: "false" }), t("mailin.hint.scope"))));
  const imapOnly = h("div", { class: "stack" },
    h("div", { class: "row-2" },
      wrap("host", field(t("mailin.field.host"), h("input", { name: "host", maxlength: 255, value: b.host,
        autocapitalize: "none", spellcheck: "false", placeholder: "imap.example.org" }))),
      wrap("port", field(t("mailin.field.port"), h("input", { name: "port", inputmode: "numeric", value: String(b.port) })))),
    wrap("security", field(t("mailin.field.security"),
      select("security", ["tls", "starttls", "none"], b.security, (s) => t(`mailin.security.${s}`)))),
    h("div", { class: "row-2" },
      wrap("username", field(t("mailin.field.username"), h("input", { name: "username", maxlength: 255,
        value: b.username, autocomplete: "off", autocapitalize: "none", spellcheck: "false" }))),
      wrap("auth", field(t("mailin.field.auth"), auth))),
    passwordPart, oauthPart,
    h("div", { class: "row-2" },
      wrap("folder", field(t("mailin.field.folder"), h("input", { name: "folder", maxlength: 255, value: b.folder }))),
      wrap("done_folder", field(t("mailin.field.done_folder"), h("input", { name: "done_folder", maxlength: 255,
        value: b.done_folder }), t("mailin.hint.done_folder")))));
  const showKind = () => {
    imapOnly.hidden = kind.value !== "imap";
    passwordPart.hidden = auth.value !== "password";
    oauthPart.hidden = auth.value !== "oauth2";
  };
  auth.addEventListener("change", showKind);
  kind.addEventListener("change", showKind);
  showKind();
  const form = h("form", { class: "stack", novalidate: true, "aria-label": box ? t("mailin.edit") : t("mailin.new") },
    h("div", { class: "row-2" },
      wrap("name", field(t("mailin.field.name"), h("input", { name: "name", maxlength: 100, required: true, value: b.name }))),
      wrap("kind", field(t("mailin.field.kind"), kind, t("mailin.hint.kind")))),
    wrap("address", field(t("mailin.field.address"), h("input", { name: "address", type: "email", maxlength: 254,
      required: true, value: b.address, placeholder: "help@example.org" }), t("mailin.hint.address"))),
    imapOnly,
    h("div", { class: "row-2" },
      wrap("group_id", field(t("mailin.field.group"), groupSelect(dir.groups, b.group_id))),
      wrap("category_id", field(t("mailin.field.category"), treeSelect(dir.categories, b.category_id)))),
    wrap("unknown_sender", field(t("mailin.field.unknown_sender"),
      select("unknown_sender", POLICIES, b.unknown_sender || "", (p) => t(`mailin.policy.${p || "default"}`)))),
    h("div", { class: "field field-check" }, h("label", {},
      h("input", { type: "checkbox", name: "active", checked: b.active }), t("mailin.field.active"))),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => form.closest("dialog")?.close() }, t("common.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, box ? t("common.save_changes") : t("mailin.create"))));
  onSubmit(form, () => {
    const v = formValues(form);
    const port = Number(v.port);
    if (v.kind === "imap" && (!/^\d+$/.test(v.port) || port < 1 || port > 65535)) {
      throw new FieldProblem(form.querySelector("[name=port]"), t("mailin.error.port"));
    }
    const body = { name: v.name.trim(), kind: v.kind, address: v.address.trim(),
      group_id: v.group_id ? Number(v.group_id) : null, category_id: v.category_id ? Number(v.category_id) : null,
      unknown_sender: v.unknown_sender || null, active: v.active };
    if (v.kind === "imap") {
      Object.assign(body, { host: v.host.trim(), port, security: v.security, username: v.username.trim(),
        folder: v.folder.trim() || "INBOX", done_folder: v.done_folder.trim(), auth: v.auth });
      if (v.auth === "oauth2") {
        Object.assign(body, { oauth_token_url: v.oauth_token_url.trim(), oauth_client_id: v.oauth_client_id.trim(),
          oauth_scope: v.oauth_scope.trim() });
        if (v.oauth_client_secret) body.oauth_client_secret = v.oauth_client_secret;
        if (v.oauth_refresh_token) body.oauth_refresh_token = v.oauth_refresh_token;
      } else if (v.password) body.password = v.password;
    }
    return submit(body);
  });
  return form;
}

/** Fill the incoming mail view. */
export function mailInView(root) {
  let dir = { groups: [], categories: [], users: [] };
  let boxes = [];
  const boxHost = h("div", { class: "table-wrap" });
  const heldHost = h("div", { class: "table-wrap" });
  const failingHost = h("div", { class: "table-wrap" });
  const heldCount = h("span", { class: "muted small", "aria-live": "polite" });

  const groupName = (id) => (dir.groups.find((g) => g.id === id) || {}).name;
  const categoryName = (id) => (dir.categories.find((c) => c.id === id) || {}).path;

  function renderBoxes() {
    if (!boxes.length) {
      replace(boxHost, emptyState("inbox", t("mailin.boxes.empty"), t("mailin.boxes.empty_hint")));
      return;
    }
    replace(boxHost, h("table", { class: "table", "aria-label": t("mailin.boxes.title") },
      h("thead", {}, h("tr", {}, [t("mailin.field.name"), t("mailin.field.address"), t("mailin.col.routing"),
        t("mailin.field.unknown_sender"), t("mailin.col.status"), ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, boxes.map((b) => h("tr", { "data-mailbox": b.name },
        h("td", {}, h("span", { class: "strong" }, b.name), h("div", { class: "muted small" }, t(`mailin.kind.${b.kind}`))),
        h("td", { class: "mono" }, b.address),
        h("td", {}, [groupName(b.group_id), categoryName(b.category_id)].filter(Boolean).join(" \u00b7 ") || "\u2014"),
        h("td", {}, t(`mailin.policy.${b.unknown_sender || "default"}`)),
        h("td", {}, statusBadge(b.active),
          b.last_error ? h("div", { class: "small mailbox-error" }, b.last_error)
            : b.last_seen_at ? h("div", { class: "muted small" }, t("mailin.last_seen", { when: dateTime(b.last_seen_at) })) : null),
        h("td", { class: "cell-actions" },
          h("button", { type: "button", class: "btn btn-small", "aria-label": t("mailin.test_named", { name: b.name }),
            onclick: () => test(b) }, t("mailin.test")),
          h("button", { type: "button", class: "btn btn-small", "aria-label": t("mailin.edit_named", { name: b.name }),
            onclick: () => edit(b) }, t("common.edit"))))))));
  }

  async function loadBoxes() {
    boxes = (await api.get("/api/v1/mailboxes")).items;
    renderBoxes();
  }

  function create() {
    const dialog = openModal(t("mailin.new"), mailboxForm({ dir, onSubmit: async (body) => {
      const made = await api.post("/api/v1/mailboxes", body);
      dialog.close();
      await loadBoxes();
      showSuccess(t("mailin.created", { name: made.name }));
    } }));
    dialog.classList.add("modal-wide");
  }

  function edit(box) {
    const form = mailboxForm({ box, dir, onSubmit: async (body) => {
      const saved = await api.patch(`/api/v1/mailboxes/${box.id}`, body);
      dialog.close();
      await loadBoxes();
      showSuccess(t("mailin.saved", { name: saved.name }));
    } });
    form.querySelector(".form-actions").prepend(h("button", { type: "button", class: "btn btn-danger",
      onclick: async () => {
        if (!await confirmDialog(t("mailin.delete"), t("mailin.delete_confirm", { name: box.name }),
          { confirmLabel: t("mailin.delete"), danger: true })) return;
        dialog.close();
        await guarded(async () => {
          await api.delete(`/api/v1/mailboxes/${box.id}`);
          await loadBoxes();
          showSuccess(t("mailin.deleted", { name: box.name }));
        });
      } }, t("mailin.delete")));
    const dialog = openModal(t("mailin.edit"), form);
    dialog.classList.add("modal-wide");
  }

  async function test(box) {
    const answer = await guarded(() => api.post(`/api/v1/mailboxes/${box.id}/test`));
    if (!answer) return;
    if (answer.ok) showSuccess(t("mailin.test_ok", { name: box.name, detail: answer.message }));
    else showWarning(t("mailin.test_failed", { name: box.name, reason: answer.message }));
    await loadBoxes();
  }

  async function loadHeld() {
    const data = await api.get("/api/v1/mail/inbound", { outcome: "held", limit: 200 });
    replace(heldCount, tn("mailin.held.count", data.items.length));
    if (!data.items.length) {
      replace(heldHost, emptyState("check", t("mailin.held.empty"), t("mailin.held.empty_hint")));
      return;
    }
    replace(heldHost, h("table", { class: "table", "aria-label": t("mailin.held.title") },
      h("thead", {}, h("tr", {}, [t("mailin.col.received"), t("mailin.col.from"), t("mailin.col.subject"),
        t("mailin.col.reason"), ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, data.items.map((m) => h("tr", { "data-held": m.id },
        h("td", { class: "muted small" }, dateTime(m.received_at)),
        h("td", { class: "mono" }, m.sender || "\u2014"),
        h("td", {}, m.subject || t("mailin.no_subject")),
        h("td", { class: "muted small" }, m.reason),
        h("td", { class: "cell-actions" }, h("button", { type: "button", class: "btn btn-small",
          "aria-label": t("mailin.read_named", { subject: m.subject || t("mailin.no_subject") }),
          onclick: () => read(m) }, t("mailin.read"))))))));
  }

  async function read(held) {
    const msg = await guarded(() => api.get(`/api/v1/mail/inbound/${held.id}`));
    if (!msg) return;
    const active = dir.users.filter((u) => u.active);
    const person = personPicker(active, null, { name: "requester" });
    const who = field(t("mailin.held.requester"), person.input, t("mailin.held.requester_hint"));
    who.append(person.element.querySelector("datalist"));
    who.dataset.field = "requester_id";
    const form = h("form", { class: "stack", "aria-label": t("mailin.held.decide") },
      h("dl", { class: "facts" },
        h("dt", {}, t("mailin.col.from")), h("dd", { class: "mono" },
          msg.sender_name ? `${msg.sender_name} <${msg.sender}>` : msg.sender || "\u2014"),
        h("dt", {}, t("mailin.col.subject")), h("dd", {}, msg.subject || t("mailin.no_subject")),
        h("dt", {}, t("mailin.col.reason")), h("dd", {}, msg.reason)),
      h("pre", { class: "mail-text", "data-mail-text": "" }, msg.text || t("mailin.no_text")),
      msg.attachments.length ? h("p", { class: "small" }, t("mailin.held.files", { names: msg.attachments.join(", ") })) : null,
      h("p", {}, h("a", { href: `/api/v1/mail/inbound/${held.id}/raw`, download: `message-${held.id}.eml` },
        t("mailin.download"))),
      who,
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn btn-danger", onclick: () => discard() }, t("mailin.held.discard")),
        h("button", { type: "submit", class: "btn btn-primary" }, t("mailin.held.accept"))));
    onSubmit(form, async () => {
      const chosen = person.input.picked();
      if (chosen === undefined) throw new FieldProblem(person.input, t("mailin.error.requester"));
      const query = chosen ? `?requester_id=${chosen.id}` : "";
      const result = await api.post(`/api/v1/mail/inbound/${held.id}/accept${query}`);
      dialog.close();
      await loadHeld();
      showSuccess(t(`mailin.held.accepted.${result.outcome === "comment" ? "comment" : "ticket"}`));
    });
    async function discard() {
      if (!await confirmDialog(t("mailin.held.discard"), t("mailin.held.discard_confirm"),
        { confirmLabel: t("mailin.held.discard"), danger: true })) return;
      dialog.close();
      await guarded(async () => {
        await api.delete(`/api/v1/mail/inbound/${held.id}`);
        await loadHeld();
        showSuccess(t("mailin.held.discarded"));
      });
    }
    const dialog = openModal(t("mailin.held.read_title"), form);
    dialog.classList.add("modal-wide");
  }

  async function loadFailing() {
    const data = await api.get("/api/v1/mail/failing-addresses");
    if (!data.items.length) {
      replace(failingHost, emptyState("check", t("mailin.failing.empty"), t("mailin.failing.empty_hint")));
      return;
    }
    replace(failingHost, h("table", { class: "table", "aria-label": t("mailin.failing.title") },
      h("thead", {}, h("tr", {}, [t("mailin.col.address"), t("mailin.col.since"), t("mailin.col.reason"), ""]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, data.items.map((f) => h("tr", { "data-failing": f.address },
        h("td", { class: "mono" }, f.address),
        h("td", { class: "muted small" }, dateTime(f.since)),
        h("td", { class: "muted small" }, f.reason),
        h("td", { class: "cell-actions" }, h("button", { type: "button", class: "btn btn-small",
          "aria-label": t("mailin.failing.clear_named", { address: f.address }), onclick: () => clear(f) },
        t("mailin.failing.clear"))))))));
  }

  async function clear(failing) {
    try {
      await api.delete(`/api/v1/mail/failing-addresses/${encodeURIComponent(failing.address)}`);
    } catch (error) {
      showError(error);
      return;
    }
    await guarded(loadFailing);
    showSuccess(t("mailin.failing.cleared", { address: failing.address }));
  }

  const add = iconButton("plus", t("mailin.new"), { class: "btn btn-primary", onclick: async () => {
    if (await ready) create();
  } });
  root.append(
    mailTabs("#/admin/mail/incoming"),
    panel(t("mailin.boxes.title"), [h("p", { class: "hint" }, t("mailin.boxes.intro")), boxHost], { actions: add }),
    panel(t("mailin.held.title"), [h("p", { class: "hint" }, t("mailin.held.intro")), heldHost], { actions: heldCount }),
    panel(t("mailin.failing.title"), [h("p", { class: "hint" }, t("mailin.failing.intro")), failingHost]));
  const ready = (async () => {
    const loaded = await guarded(() => Promise.all([allGroups(), api.get("/api/v1/categories"), allUsers()]));
    if (!loaded) return false;
    const [groups, categories, users] = loaded;
    dir = { groups, categories: treeOrder(categories.items), users };
    await guarded(() => Promise.all([loadBoxes(), loadHeld(), loadFailing()]));
    return true;
  })();
}
