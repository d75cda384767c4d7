// The login page: user name and password; the server's error message on failure.

import { busy, field, formValues, h } from "../dom.js";
import { clearNotice, setNoticeHost, showError } from "../notice.js";
import { login } from "../session.js";

/** Return the login page; `onLoggedIn(user)` runs after a successful login. */
export function loginPage({ onLoggedIn, reason = "" }) {
  const notice = h("div", { class: "notice-host", hidden: true, "aria-live": "polite" });
  setNoticeHost(notice);
  const username = h("input", { name: "username", autocomplete: "username", required: true,
    autocapitalize: "none", spellcheck: "false", maxlength: 254 });
  const password = h("input", { name: "password", type: "password", required: true,
    autocomplete: "current-password", maxlength: 1024 });
  const form = h("form", { class: "login-form", "aria-label": "Log in" },
    field("User name", username),
    field("Password", password),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Log in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    const values = formValues(form);
    try {
      const user = await busy(form, () => login(values.username, values.password));
      onLoggedIn(user);
    } catch (error) {
      showError(error);
      password.select();
      password.focus();
    }
  });
  const page = h("main", { class: "login-page" },
    h("div", { class: "login-card" },
      h("div", { class: "login-brand" },
        h("img", { src: "/static/img/logo.svg", alt: "", width: 40, height: 40 }),
        h("span", { class: "brand-name" }, "Deskmate")),
      h("h1", { class: "login-title" }, "Log in to the service desk"),
      h("p", { class: "login-sub" }, "Use the account your IT team gave you."),
      notice,
      form),
    h("p", { class: "login-foot" }, "Deskmate \u00b7 self-hosted service desk"));
  document.title = "Log in \u00b7 Deskmate";
  if (reason) {
    showError(reason);
  }
  queueMicrotask(() => username.focus());
  return page;
}
