// The Account page: one's profile, password change, and personal API tokens.

import { api } from "../api.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { date, dateTime } from "../format.js";
import { icon } from "../icons.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import * as i18n from "../i18n.js";
import { roleLabel, updateUser } from "../session.js";
import { confirmDialog, emptyState, panel } from "../ui.js";

// Every token expires; the server refuses more than its api_token_max_days (default 365).
const EXPIRY_CHOICES = [["30", "30 days"], ["90", "90 days"], ["365", "1 year"]];

function profile(user) {
  const row = (label, value) => [h("dt", {}, label), h("dd", {}, value)];
  return panel("Profile", h("dl", { class: "facts" },
    row("User name", user.username),
    row("Display name", user.display_name),
    row("Email", user.email || "\u2014"),
    row("Role", roleLabel(user.role)),
    row("Member since", dateTime(user.created_at))));
}

function passwordForm(onChanged) {
  const current = h("input", { name: "current_password", type: "password", required: true,
    autocomplete: "current-password" });
  const next = h("input", { name: "new_password", type: "password", required: true,
    minlength: 10, autocomplete: "new-password" });
  const again = h("input", { name: "again", type: "password", required: true, minlength: 10,
    autocomplete: "new-password" });
  const form = h("form", { class: "stack", "aria-label": "Change password" },
    field("Current password", current),
    field("New password", next, "At least 10 characters."),
    field("Repeat new password", again),
    h("div", { class: "form-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Change password")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    const v = formValues(form);
    if (v.new_password !== v.again) {
      showError("the two new passwords differ");
      again.focus();
      return;
    }
    try {
      const ended = await busy(form, () => api.post("/api/v1/auth/password",
        { current_password: v.current_password, new_password: v.new_password }));
      form.reset();
      const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
      showSuccess(`Password changed. ${plural(ended.sessions_ended, "other session", "other sessions")} ` +
        `logged out and ${plural(ended.tokens_revoked, "API token", "API tokens")} revoked.`);
      onChanged();
    } catch (error) {
      showError(error);
    }
  });
  return panel("Password", form);
}

function newTokenBox(secret) {
  const value = h("input", { class: "mono token-value", readonly: true, value: secret,
    "aria-label": "New API token", onfocus: (e) => e.target.select() });
  const copy = h("button", { type: "button", class: "btn" }, icon("copy"), "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret);
      replace(copy, icon("copy"), "Copied");
    } catch {
      value.focus();
      showError("the browser refused clipboard access; the token is selected, copy it by hand");
    }
  });
  return h("div", { class: "token-once", role: "status" },
    h("p", { class: "token-once-title" }, "Copy your new token now. It is shown only once."),
    h("div", { class: "inline" }, value, copy));
}

function tokensPanel() {
  const list = h("div", { class: "table-wrap" });
  const revealed = h("div");
  const name = h("input", { name: "name", required: true, maxlength: 100,
    placeholder: "e.g. backup script" });
  const expiry = h("select", { name: "expires_in_days" },
    EXPIRY_CHOICES.map(([v, label]) => h("option", { value: v, selected: v === "90" }, label)));
  const form = h("form", { class: "inline-form", "aria-label": "Create API token" },
    field("Token name", name), field("Expires", expiry),
    h("button", { type: "submit", class: "btn btn-primary" }, icon("plus"), "Create token"));

  async function load() {
    const data = await guarded(() => api.get("/api/v1/auth/tokens"));
    if (!data) return;
    if (!data.items.length) {
      replace(list, emptyState("key", "No API tokens",
        "Tokens let scripts call the API as you. Create one above."));
      return;
    }
    const rows = data.items.map((t) => h("tr", {},
      h("td", {}, t.name),
      h("td", { class: "mono" }, `${t.prefix}\u2026`),
      h("td", { class: "nowrap", title: dateTime(t.created_at) }, date(t.created_at)),
      h("td", { class: "nowrap", title: t.expires_at ? dateTime(t.expires_at) : null }, t.expires_at ? date(t.expires_at) : "Never"),
      h("td", { class: "nowrap", title: t.last_used_at ? dateTime(t.last_used_at) : null },
        t.last_used_at ? date(t.last_used_at) : h("span", { class: "muted" }, "Never")),
      h("td", { class: "cell-actions" }, h("button", { type: "button", class: "btn btn-small btn-danger-ghost",
        "aria-label": `Revoke token ${t.name}`, onclick: () => revoke(t) }, "Revoke"))));
    replace(list, h("table", { class: "table" },
      h("thead", {}, h("tr", {}, ["Name", "Prefix", "Created", "Expires", "Last used", ""]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows)));
  }

  async function revoke(token) {
    const ok = await confirmDialog("Revoke token",
      `Revoke the token "${token.name}"? Scripts using it stop working at once.`,
      { confirmLabel: "Revoke", danger: true });
    if (!ok) return;
    clearNotice();
    if (await guarded(async () => { await api.delete(`/api/v1/auth/tokens/${token.id}`); return true; })) {
      showSuccess(`Token "${token.name}" revoked.`);
      replace(revealed);
      await load();
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    const v = formValues(form);
    const body = { name: v.name, expires_in_days: Number(v.expires_in_days) };
    try {
      const created = await busy(form, () => api.post("/api/v1/auth/tokens", body));
      form.reset();
      replace(revealed, newTokenBox(created.token));
      await load();
    } catch (error) {
      showError(error);
    }
  });
  load();
  return { element: panel("API tokens", [form, revealed, list]), reload: load };
}

function notificationsPanel(user) {
  const path = `/api/v1/users/${user.id}/notifications`;
  const box = h("input", { type: "checkbox", name: "email_notifications", disabled: true });
  const hint = h("p", { class: "muted" });
  const form = h("form", { class: "stack", "aria-label": "E-mail notifications" },
    h("label", { class: "check" }, box, "Send me e-mail about my tickets"), hint);

  function explain(pref) {
    box.checked = pref.email_notifications;
    box.disabled = false;
    replace(hint, !pref.mail_enabled ? "This server sends no e-mail at present."
      : !pref.email ? "You have no e-mail address on record; ask an administrator to add one."
        : `Sent to ${pref.email}.`);
  }

  box.addEventListener("change", async () => {
    clearNotice();
    const wanted = box.checked;
    try {
      explain(await busy(form, () => api.put(path, { email_notifications: wanted })));
      showSuccess(wanted ? "E-mail notifications are on." : "E-mail notifications are off.");
    } catch (error) {
      box.checked = !wanted;
      showError(error);
    }
  });
  guarded(() => api.get(path)).then((pref) => { if (pref) explain(pref); });
  return panel("Notifications", form);
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
        const changed = await busy(form, () => api.patch(`/api/v1/users/${user.id}`, { language: chosen }));
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
export function accountView(root, ctx) {
  const { user } = ctx;
  const tokens = tokensPanel();
  // A password change revokes every API token: the list is reloaded to show it.
  root.append(h("div", { class: "grid-2" }, profile(user), passwordForm(tokens.reload)),
    languagePanel(user, ctx), notificationsPanel(user), tokens.element);
}
