// The Account page: one's own profile (name, e-mail, time zone), notification choices,
// password change, and personal API tokens; and the page the e-mail confirmation link opens.

import { api } from "../api.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { clearFieldErrors, fieldError, focusFirstError, placeError } from "../forms.js";
import { date, dateTime, timeZone } from "../format.js";
import { t, tn } from "../i18n.js";
import { icon } from "../icons.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import * as i18n from "../i18n.js";
import { roleLabel, updateUser } from "../session.js";
import { confirmDialog, emptyState, panel } from "../ui.js";
import { totpPanel } from "./second_factor.js";

// Every token expires; the server refuses more than its api_token_max_days (default 365).
const EXPIRY_CHOICES = ["30", "90", "365"];
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Return the IANA zones this browser knows, UTC first. */
function zoneNames() {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = [timeZone()];
  }
  return ["UTC", ...zones.filter((z) => z !== "UTC")];
}

function zoneSelect(current) {
  const browser = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zones = zoneNames();
  if (current && !zones.includes(current)) zones.push(current);
  // Zone names are IANA identifiers ("America/New_York"), the same in every language.
  return h("select", { name: "time_zone", translate: "no" },
    h("option", { value: "", selected: !current }, t("account.zone.browser", { zone: browser })),
    zones.map((z) => h("option", { value: z, selected: z === current }, z.replaceAll("_", " "))));
}

/** The profile: user name and role as facts; name, e-mail and time zone to change. */
function profileForm(user, account, { onUserChanged }) {
  const facts = h("dl", { class: "facts" });
  const name = h("input", { name: "display_name", maxlength: 200, value: user.display_name,
    autocomplete: "name" });
  const email = h("input", { name: "email", type: "email", maxlength: 254, value: user.email || "",
    autocomplete: "email", readonly: !account.mail_enabled && user.role !== "admin" });
  const emailHint = h("div", { class: "hint", id: "account-email-hint" });
  email.setAttribute("aria-describedby", emailHint.id);
  const zone = zoneSelect(user.time_zone);
  const form = h("form", { class: "stack", "aria-label": t("account.profile"), novalidate: true },
    facts,
    field(t("account.display_name"), name),
    h("div", { class: "field" }, h("label", { for: "account-email" }, t("account.email")),
      Object.assign(email, { id: "account-email" }), emailHint),
    field(t("account.time_zone"), zone, t("account.time_zone_hint")),
    h("div", { class: "form-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, t("account.save"))));

  function show(current) {
    user = current.user;
    const row = (label, value) => [h("dt", {}, label), h("dd", {}, value)];
    // Times follow the chosen zone: "member since" and the clock show it at once.
    replace(facts,
      row(t("account.username"), user.username),
      row(t("account.role"), roleLabel(user.role)),
      row(t("account.member_since"), h("span", { "data-time": "member-since" }, dateTime(user.created_at))),
      row(t("account.time_now"), h("span", { "data-time": "now" },
        t("account.time_in_zone", { time: dateTime(new Date().toISOString()), zone: timeZone() }))));
    const withdraw = h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: cancelChange },
      t("account.email_withdraw"));
    replace(emailHint, current.pending_email
      ? [t("account.email_pending", { email: current.pending_email, time: dateTime(current.pending_expires_at) }),
        " ", withdraw]
      : !current.mail_enabled && user.role !== "admin" ? t("account.email_no_mail")
        : current.mail_enabled ? t("account.email_confirm_hint") : t("account.email_admin_direct"));
  }

  async function cancelChange() {
    clearNotice();
    if (await guarded(async () => { await api.delete("/api/v1/account/email"); return true; })) {
      show(await api.get("/api/v1/account"));
      showSuccess(t("account.email_withdrawn"));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    clearFieldErrors(form);
    const v = formValues(form);
    if (!v.display_name) fieldError(name, t("account.name_needed"));
    if (v.email !== (user.email || "") && !EMAIL.test(v.email)) fieldError(email, t("account.email_bad"));
    if (form.querySelector("[aria-invalid='true']")) {
      focusFirstError(form);
      return;
    }
    const body = {};
    if (v.display_name !== user.display_name) body.display_name = v.display_name;
    if ((v.time_zone || null) !== (user.time_zone || null)) body.time_zone = v.time_zone || null;
    if (v.email && v.email !== (user.email || "")) body.email = v.email;
    if (!Object.keys(body).length) {
      showSuccess(t("account.nothing_changed"));
      return;
    }
    try {
      const saved = await busy(form, () => api.patch("/api/v1/account", body));
      onUserChanged(saved.user); // the top bar's name, and the zone of every time shown
      show(saved);
      email.value = saved.user.email || "";
      showSuccess(body.email && saved.pending_email
        ? t("account.saved_confirm", { email: saved.pending_email }) : t("account.saved"));
    } catch (error) {
      placeError(form, error);
    }
  });
  show(account);
  return panel(t("account.profile"), form);
}

function passwordForm(onChanged) {
  const current = h("input", { name: "current_password", type: "password", required: true,
    autocomplete: "current-password" });
  const next = h("input", { name: "new_password", type: "password", required: true,
    minlength: 10, autocomplete: "new-password" });
  const again = h("input", { name: "again", type: "password", required: true, minlength: 10,
    autocomplete: "new-password" });
  const form = h("form", { class: "stack", "aria-label": t("account.password.change"), novalidate: true },
    field(t("account.password.current"), current),
    field(t("account.password.new"), next, t("account.password.hint")),
    field(t("account.password.again"), again),
    h("div", { class: "form-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, t("account.password.change"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    clearFieldErrors(form);
    const v = formValues(form);
    if (!v.current_password) fieldError(current, t("account.password.current_needed"));
    if (v.new_password.length < 10) fieldError(next, t("account.password.too_short"));
    else if (v.new_password !== v.again) fieldError(again, t("account.password.differ"));
    if (form.querySelector("[aria-invalid='true']")) {
      focusFirstError(form);
      return;
    }
    try {
      const ended = await busy(form, () => api.post("/api/v1/auth/password",
        { current_password: v.current_password, new_password: v.new_password }));
      form.reset();
      showSuccess(t("account.password.changed", {
        sessions: tn("account.password.sessions_ended", ended.sessions_ended),
        tokens: tn("account.password.tokens_revoked", ended.tokens_revoked) }));
      onChanged();
    } catch (error) {
      if (error.code === "invalid_credentials") {
        fieldError(current, t("account.password.current_wrong"));
        focusFirstError(form);
      } else placeError(form, error);
    }
  });
  return panel(t("account.password.title"), form);
}

function newTokenBox(secret) {
  const value = h("input", { class: "mono token-value", readonly: true, value: secret,
    "aria-label": t("account.tokens.new_value"), onfocus: (e) => e.target.select() });
  const copy = h("button", { type: "button", class: "btn" }, icon("copy"), t("account.tokens.copy"));
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret);
      replace(copy, icon("copy"), t("account.tokens.copied"));
    } catch {
      value.focus();
      showError(t("account.tokens.copy_refused"));
    }
  });
  return h("div", { class: "token-once", role: "status" },
    h("p", { class: "token-once-title" }, t("account.tokens.once")),
    h("div", { class: "inline" }, value, copy));
}

function tokensPanel() {
  const list = h("div", { class: "table-wrap" });
  const revealed = h("div");
  const name = h("input", { name: "name", required: true, maxlength: 100,
    placeholder: t("account.tokens.name_placeholder") });
  const expiry = h("select", { name: "expires_in_days" },
    EXPIRY_CHOICES.map((v) => h("option", { value: v, selected: v === "90" }, t(`account.tokens.expiry.${v}`))));
  const form = h("form", { class: "inline-form", "aria-label": t("account.tokens.create_title"), novalidate: true },
    field(t("account.tokens.name"), name), field(t("account.tokens.expires"), expiry),
    h("button", { type: "submit", class: "btn btn-primary" }, icon("plus"), t("account.tokens.create")));

  async function load() {
    const data = await guarded(() => api.get("/api/v1/auth/tokens"));
    if (!data) return;
    if (!data.items.length) {
      replace(list, emptyState("key", t("account.tokens.none"), t("account.tokens.none_text")));
      return;
    }
    const never = () => h("span", { class: "muted" }, t("account.tokens.never"));
    const rows = data.items.map((tk) => h("tr", {},
      h("td", {}, tk.name),
      h("td", { class: "mono" }, `${tk.prefix}\u2026`),
      h("td", { class: "nowrap", title: dateTime(tk.created_at) }, date(tk.created_at)),
      h("td", { class: "nowrap", title: tk.expires_at ? dateTime(tk.expires_at) : null },
        tk.expires_at ? date(tk.expires_at) : t("account.tokens.never")),
      h("td", { class: "nowrap", title: tk.last_used_at ? dateTime(tk.last_used_at) : null },
        tk.last_used_at ? date(tk.last_used_at) : never()),
      h("td", { class: "cell-actions" }, h("button", { type: "button", class: "btn btn-small btn-danger-ghost",
        "aria-label": t("account.tokens.revoke_named", { name: tk.name }), onclick: () => revoke(tk) },
      t("account.tokens.revoke")))));
    const cols = ["name", "prefix", "created", "expires", "last_used"];
    replace(list, h("table", { class: "table", "aria-label": t("account.tokens.title") },
      h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, t(`account.tokens.col.${c}`))),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("account.tokens.col.actions"))))),
      h("tbody", {}, rows)));
  }

  async function revoke(token) {
    const ok = await confirmDialog(t("account.tokens.revoke_title"),
      t("account.tokens.revoke_question", { name: token.name }),
      { confirmLabel: t("account.tokens.revoke"), danger: true });
    if (!ok) return;
    clearNotice();
    if (await guarded(async () => { await api.delete(`/api/v1/auth/tokens/${token.id}`); return true; })) {
      showSuccess(t("account.tokens.revoked", { name: token.name }));
      replace(revealed);
      await load();
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    clearFieldErrors(form);
    const v = formValues(form);
    if (!v.name) {
      fieldError(name, t("account.tokens.name_needed"));
      focusFirstError(form);
      return;
    }
    const body = { name: v.name, expires_in_days: Number(v.expires_in_days) };
    try {
      const created = await busy(form, () => api.post("/api/v1/auth/tokens", body));
      form.reset();
      replace(revealed, newTokenBox(created.token));
      await load();
    } catch (error) {
      placeError(form, error);
    }
  });
  load();
  return { element: panel(t("account.tokens.title"), [form, revealed, list]), reload: load };
}

const KINDS = ["received", "reply", "resolved", "assigned", "requester_reply", "sla", "low_score", "report"];

/** E-mail notifications: all on or off, and kind by kind (the server lists the user's kinds). */
function notificationsPanel(user) {
  const path = `/api/v1/users/${user.id}/notifications`;
  const all = h("input", { type: "checkbox", name: "email_notifications", disabled: true });
  const kinds = h("fieldset", { class: "choice-list", disabled: true },
    h("legend", {}, t("account.notify.kinds")));
  const hint = h("p", { class: "muted" });
  const form = h("form", { class: "stack", "aria-label": t("account.notify.title") },
    h("label", { class: "check" }, all, t("account.notify.all")), kinds, hint);

  function explain(pref) {
    all.checked = pref.email_notifications;
    all.disabled = false;
    kinds.disabled = !pref.email_notifications;
    replace(kinds, h("legend", {}, t("account.notify.kinds")),
      KINDS.filter((k) => k in pref.events).map((k) => h("label", { class: "check" },
        h("input", { type: "checkbox", name: `event_${k}`, "data-kind": k, checked: pref.events[k] }),
        t(`account.notify.kind.${k}`))));
    replace(hint, !pref.mail_enabled ? t("account.notify.no_mail")
      : !pref.email ? t("account.notify.no_address") : t("account.notify.sent_to", { email: pref.email }));
  }

  async function send(body, undo, message) {
    clearNotice();
    try {
      explain(await busy(form, () => api.put(path, body)));
      showSuccess(message);
    } catch (error) {
      undo();
      showError(error);
    }
  }

  all.addEventListener("change", () => {
    const wanted = all.checked;
    send({ email_notifications: wanted }, () => { all.checked = !wanted; },
      wanted ? t("account.notify.on") : t("account.notify.off"));
  });
  kinds.addEventListener("change", (event) => {
    const box = event.target;
    if (!box.dataset.kind) return;
    const wanted = box.checked;
    send({ events: { [box.dataset.kind]: wanted } }, () => { box.checked = !wanted; },
      t("account.notify.saved"));
  });
  guarded(() => api.get(path)).then((pref) => { if (pref) explain(pref); });
  return panel(t("account.notify.title"), form);
}

// The user's language: the console's, and that of their e-mail and the API's messages.
const KNOWN_LANGUAGES = [{ code: "en", name: "English" }, { code: "id", name: "Bahasa Indonesia" }];

function languagePanel(user, ctx) {
  const { t } = i18n;
  const select = h("select", { name: "language", disabled: true });
  const form = h("form", { class: "stack", "aria-label": t("account.language.title") },
    field(t("account.language.label"), select, t("account.language.hint")));
  const listed = i18n.availableLanguages ? i18n.availableLanguages() : Promise.resolve(KNOWN_LANGUAGES);
  listed.then((items) => {
    replace(select, h("option", { value: "" }, t("account.language.browser")),
      ...items.map((l) => h("option", { value: l.code, lang: l.code }, l.name)));
    select.value = user.language || "";
    select.disabled = false;
    select.addEventListener("change", async () => {
      clearNotice();
      const chosen = select.value || null;
      try {
        const saved = await busy(form, () => api.patch("/api/v1/account", { language: chosen }));
        const changed = saved.user;
        updateUser(changed);
        if (ctx && ctx.onUserChanged) await ctx.onUserChanged(changed);
        const wanted = chosen || i18n.browserLanguage(items.map((l) => l.code));
        if (i18n.language() !== wanted) {
          // Nothing rebuilt the console in the new language: load it again, speaking it.
          await i18n.useLanguage(wanted);
          window.location.reload();
        }
      } catch (error) {
        select.value = user.language || "";
        showError(error);
      }
    });
  });
  return panel(t("account.language.title"), form);
}

/** Fill the Account view. */
export async function accountView(root, ctx) {
  const { user, onUserChanged } = ctx;
  const account = await guarded(() => api.get("/api/v1/account"));
  if (!root.isConnected) return;
  const tokens = tokensPanel();
  const profile = account ? profileForm(account.user, account, { onUserChanged })
    : panel(t("account.profile"), h("p", { class: "muted" }, t("account.unavailable")));
  // A password change revokes every API token: the list is reloaded to show it.
  root.append(h("div", { class: "grid-2" }, profile, passwordForm(tokens.reload)),
    languagePanel(user, ctx), totpPanel(), notificationsPanel(user), tokens.element);
}

/** The page the link mailed to a new address opens: confirm it, say what happened. */
export async function confirmEmailView(root, { params, onUserChanged }) {
  const body = h("div", { class: "stack", role: "status" }, t("account.confirm.working"));
  root.append(panel(t("account.confirm.title"), body));
  try {
    const account = await api.post("/api/v1/account/email/confirm", { token: params[0] });
    onUserChanged(account.user);
    replace(body, h("p", {}, t("account.confirm.done", { email: account.user.email })),
      h("p", {}, h("a", { href: "#/account", class: "btn" }, t("account.confirm.back"))));
  } catch (error) {
    if (error.status === 401) return;
    replace(body, h("p", {}, error.code === "invalid_link" ? t("account.confirm.invalid") : error.message),
      h("p", {}, h("a", { href: "#/account", class: "btn" }, t("account.confirm.back"))));
  }
}
