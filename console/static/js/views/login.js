// The login page: user name and password; the server's error message on failure; a
// button per single sign-on provider (and what a refused sign-in through one means); the
// language menu, so that a person picks their language before anyone logs in.

import { api } from "../api.js";
import { brandMark, productName } from "../branding.js";
import { busy, field, formValues, h } from "../dom.js";
import { availableLanguages, language, t } from "../i18n.js";
import { clearNotice, setNoticeHost, showError } from "../notice.js";
import { login } from "../session.js";
import { forgotPasswordLink } from "./password_reset.js";
import { secondStepPage } from "./second_factor.js";

function languageMenu(onLanguage) {
  const select = h("select", { id: "login-language", class: "login-language-select" },
    h("option", { value: language() }, language()));
  // The list comes from the server (one entry per catalogue file); until it arrives the
  // menu shows the current language alone.
  availableLanguages().then((items) => {
    select.replaceChildren(...items.map((lang) =>
      h("option", { value: lang.code, lang: lang.code, selected: lang.code === language() }, lang.name)));
  });
  select.addEventListener("change", () => onLanguage(select.value));
  return h("div", { class: "login-language" },
    h("label", { for: select.id }, t("login.language")), select);
}

// Why a sign-in through a provider came back refused (the server's ?sso_error=code).
const SSO_ERRORS = ["sso_unavailable", "sso_state_invalid", "sso_token_invalid", "sso_denied",
  "sso_no_account", "sso_account_disabled"];

/** Take the single sign-on outcome the server put in the address, once; return it. */
function ssoOutcome() {
  const params = new URLSearchParams(location.search);
  const error = params.get("sso_error");
  const step = params.get("sso");
  if (error || step) history.replaceState(null, "", location.pathname + location.hash);
  if (error) return { error: SSO_ERRORS.includes(error) ? error : "sso_token_invalid" };
  return { secondFactor: step === "second_factor" };
}

function ssoButtons() {
  const host = h("div", { class: "login-sso", hidden: true });
  api.get("/api/v1/auth/oidc/providers", undefined, { probe: true }).then((options) => {
    if (!options.providers.length && !options.local_login_admins_only) return;
    host.replaceChildren(
      options.providers.length ? h("p", { class: "login-sso-or" }, t("login.sso_or")) : null,
      ...options.providers.map((p) => h("a", { class: "btn btn-block", href: p.start_url },
        t("login.sso_button", { name: p.name }))),
      options.local_login_admins_only ? h("p", { class: "muted login-sso-note" }, t("login.local_admins_only")) : null);
    host.hidden = false;
  }).catch(() => {}); // no buttons: the password form still works
  return host;
}

/**
 * Return the login page; `onLoggedIn(user)` runs after a successful login and
 * `onLanguage(code)` when the person picks another language (`username` keeps what was typed).
 */
export function loginPage({ onLoggedIn, onLanguage = null, reason = "", username: typed = "" }) {
  const notice = h("div", { class: "notice-host", hidden: true, "aria-live": "polite" });
  setNoticeHost(notice);
  const username = h("input", { name: "username", autocomplete: "username", required: true,
    autocapitalize: "none", spellcheck: "false", maxlength: 254, value: typed });
  const password = h("input", { name: "password", type: "password", required: true,
    autocomplete: "current-password", maxlength: 1024 });
  const form = h("form", { class: "login-form", "aria-label": t("login.submit") },
    field(t("login.username"), username),
    field(t("login.password"), password),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("login.submit")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    const values = formValues(form);
    try {
      const user = await busy(form, () => login(values.username, values.password));
      onLoggedIn(user);
    } catch (error) {
      if (askSecondFactor(error, page, onLoggedIn)) return;
      showError(error);
      password.select();
      password.focus();
    }
  });
  const page = h("main", { class: "login-page" },
    h("div", { class: "login-card" },
      h("div", { class: "login-brand" }, brandMark(40)),
      h("h1", { class: "login-title" }, t("login.title")),
      h("p", { class: "login-sub" }, t("login.sub")),
      notice,
      form,
      ssoButtons(),
      forgotPasswordLink()),
    onLanguage ? languageMenu((code) => onLanguage(code, username.value)) : null,
    h("p", { class: "login-foot" }, t("login.foot", { product: productName() })));
  document.title = t("login.document_title", { product: productName() });
  const sso = ssoOutcome();
  if (sso.error) {
    showError(t(`login.sso_error.${sso.error}`));
  } else if (reason) {
    showError(reason);
  }
  if (sso.secondFactor) {
    // The provider signed the person in; their account's own second factor still applies.
    queueMicrotask(() => askSecondFactor({ code: "second_factor_required" }, page, onLoggedIn));
  }
  queueMicrotask(() => username.focus());
  return page;
}

/** Show the second step in place of `page` when the password asked for it; tell whether. */
function askSecondFactor(error, page, onLoggedIn) {
  if (error.code !== "second_factor_required") return false;
  const step = secondStepPage({ onLoggedIn,
    onRestart: (reason = "") => step.replaceWith(loginPage({ onLoggedIn, reason })) });
  page.replaceWith(step);
  return true;
}
