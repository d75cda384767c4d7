// TOTP second factor in the console: the login's code step, the Account page's panel
// (set up with a QR code, confirm, recovery codes shown once, turn off), and the page an
// admin is held on when the server requires a second factor before anything else.

import { api } from "../api.js";
import { field, formValues, h, replace } from "../dom.js";
import { onSubmit } from "../forms.js";
import { t, tn } from "../i18n.js";
import { clearNotice, guarded, setNoticeHost, showSuccess } from "../notice.js";
import { adoptSession } from "../session.js";
import { panel } from "../ui.js";

function codeInput(name = "code") {
  return h("input", { name, required: true, autocomplete: "one-time-code", inputmode: "text",
    autocapitalize: "none", spellcheck: "false", maxlength: 40 });
}

/** The card around the login's steps (the same look as the login page). */
function card(title, sub, ...content) {
  return h("div", { class: "login-page" },
    h("div", { class: "login-card" },
      h("div", { class: "login-brand" },
        h("img", { src: "/static/img/logo.svg", alt: "", width: 40, height: 40 }),
        h("span", { class: "brand-name" }, "Deskmate")),
      h("h1", { class: "login-title" }, title),
      h("p", { class: "login-sub" }, sub),
      ...content));
}

/**
 * Return the login's second step: the code from the authenticator app or a recovery
 * code. `onLoggedIn(user)` runs with the session; `onRestart()` goes back to the password.
 */
export function secondStepPage({ onLoggedIn, onRestart }) {
  const notice = h("div", { class: "notice-host", hidden: true, "aria-live": "polite" });
  setNoticeHost(notice);
  const code = codeInput();
  const form = h("form", { class: "login-form", "aria-label": t("login.totp.form") },
    field(t("login.totp.code"), code, t("login.totp.code_hint")),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("login.totp.verify")),
    h("button", { type: "button", class: "btn btn-block", onclick: () => onRestart() },
      t("login.totp.restart")));
  // A wrong code is said under the field (forms.js); an expired first step starts over.
  onSubmit(form, async () => {
    let info;
    try {
      info = await api.post("/api/v1/auth/login/second-factor", { code: formValues(form).code });
    } catch (error) {
      if (error.code !== "half_session_expired") throw error;
      onRestart(error.message);
      return;
    }
    onLoggedIn(adoptSession(info));
  });
  document.title = `${t("login.totp.title")} \u00b7 Deskmate`;
  queueMicrotask(() => code.focus());
  return card(t("login.totp.title"), t("login.totp.sub"), notice, form);
}

function recoveryCodesBox(codes) {
  return h("div", { class: "token-once", role: "status" },
    h("p", { class: "token-once-title" }, t("account.totp.codes_once")),
    h("ul", { class: "recovery-codes mono", "aria-label": t("account.totp.codes") },
      codes.map((c) => h("li", {}, c))),
    h("p", { class: "token-once-hint" }, t("account.totp.codes_hint")));
}

/** Return the Account page's second-factor panel; `onEnabled()` runs once it is on. */
export function totpPanel({ onEnabled = () => {} } = {}) {
  const body = h("div", { class: "stack" });

  function showState(state) {
    if (!state.local_account) {
      replace(body, h("p", { class: "muted" }, t("account.totp.directory")));
    } else if (state.enabled) {
      replace(body, h("p", {}, t("account.totp.on")),
        h("p", { class: "muted" }, tn("account.totp.codes_left", state.recovery_codes_left)),
        disableForm());
    } else {
      const start = h("button", { type: "button", class: "btn btn-primary" },
        t("account.totp.set_up"));
      start.addEventListener("click", () => begin());
      replace(body, h("p", {}, t("account.totp.off")), start);
    }
  }

  async function load() {
    const state = await guarded(() => api.get("/api/v1/auth/totp"));
    if (state) showState(state);
  }

  async function begin() {
    clearNotice();
    const enrolment = await guarded(() => api.post("/api/v1/auth/totp/enrolment"));
    if (!enrolment) return;
    const code = codeInput();
    const form = h("form", { class: "stack", "aria-label": t("account.totp.confirm_form") },
      h("ol", { class: "steps" },
        h("li", {}, t("account.totp.step_scan")),
        h("li", {}, t("account.totp.step_code"))),
      h("img", { class: "totp-qr", src: enrolment.qr_svg, width: 200, height: 200,
        alt: t("account.totp.qr_alt") }),
      h("p", { class: "muted" }, t("account.totp.manual"), " ",
        h("code", { class: "mono totp-secret" }, enrolment.secret)),
      field(t("account.totp.code"), code),
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "btn btn-primary" }, t("account.totp.confirm"))));
    // A wrong code is said under the field (forms.js); nothing is switched on.
    onSubmit(form, async () => {
      const result = await api.post("/api/v1/auth/totp/confirm", { code: formValues(form).code });
      replace(body, h("p", {}, t("account.totp.on")), recoveryCodesBox(result.recovery_codes));
      showSuccess(t("account.totp.enabled"));
      onEnabled();
    });
    replace(body, form);
    code.focus();
  }

  function disableForm() {
    const password = h("input", { name: "password", type: "password", required: true,
      autocomplete: "current-password", maxlength: 1024 });
    const form = h("form", { class: "stack", "aria-label": t("account.totp.disable_form") },
      field(t("account.totp.password"), password),
      field(t("account.totp.code_or_recovery"), codeInput()),
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "btn btn-danger-ghost" }, t("account.totp.disable"))));
    // A wrong password or code is said under its field (forms.js).
    onSubmit(form, async () => {
      const v = formValues(form);
      await api.post("/api/v1/auth/totp/disable", { password: v.password, code: v.code });
      showSuccess(t("account.totp.disabled"));
      await load();
    });
    return form;
  }

  load();
  return panel(t("account.totp.title"), body);
}

/**
 * Return the page an admin sees when the server requires a second factor and theirs is
 * not set up: only setting it up, or logging out. `onDone()` runs once it is on.
 */
export function enrolPage({ onDone, onLogout }) {
  const notice = h("div", { class: "notice-host", hidden: true, "aria-live": "polite" });
  setNoticeHost(notice);
  const done = h("button", { type: "button", class: "btn btn-primary btn-block", hidden: true,
    onclick: () => onDone() }, t("account.totp.continue"));
  const logout = h("button", { type: "button", class: "btn btn-block", onclick: () => onLogout() },
    t("login.totp.log_out"));
  document.title = `${t("account.totp.required_title")} \u00b7 Deskmate`;
  return card(t("account.totp.required_title"), t("account.totp.required_sub"), notice,
    totpPanel({ onEnabled: () => { done.hidden = false; } }), done, logout);
}
