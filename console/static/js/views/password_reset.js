// "Forgot password?": asking for a reset link by e-mail, and the page the link opens.

import { api } from "../api.js";
import { field, formValues, h } from "../dom.js";
import { FieldProblem, onSubmit } from "../forms.js";
import { t } from "../i18n.js";
import { setNoticeHost, showSuccess } from "../notice.js";

function card(title, sub, ...content) {
  return h("div", { class: "login-page" },
    h("div", { class: "login-card" },
      h("div", { class: "login-brand" },
        h("img", { src: "/static/img/logo.svg", alt: "", width: 40, height: 40 }),
        h("span", { class: "brand-name" }, "Deskmate")),
      h("h1", { class: "login-title" }, title),
      h("p", { class: "login-sub" }, sub),
      ...content,
      h("p", {}, h("a", { href: "#/login" }, t("reset.back_to_login")))));
}

function noticeHost() {
  const notice = h("div", { class: "notice-host", hidden: true, "aria-live": "polite" });
  setNoticeHost(notice);
  return notice;
}

/** Return the "Forgot password?" link of the login page. */
export function forgotPasswordLink() {
  return h("p", { class: "login-forgot" }, h("a", { href: "#/forgot-password" }, t("reset.forgot")));
}

/** Return the page that asks for a reset link. */
export function forgotPasswordPage() {
  const notice = noticeHost();
  const email = h("input", { name: "email", type: "email", required: true, autocomplete: "email",
    maxlength: 254 });
  const form = h("form", { class: "login-form", "aria-label": t("reset.ask_form") },
    field(t("reset.email"), email),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("reset.send")));
  // A malformed address is said under the field (forms.js); nothing is sent.
  onSubmit(form, async () => {
    await api.post("/api/v1/auth/password-reset", { email: formValues(form).email });
    form.reset();
    showSuccess(t("reset.sent"));
  });
  document.title = `${t("reset.title")} \u00b7 Deskmate`;
  queueMicrotask(() => email.focus());
  return card(t("reset.title"), t("reset.sub"), notice, form);
}

/** Return the page a reset link opens: choose a new password. */
export function resetPasswordPage(token) {
  const notice = noticeHost();
  const next = h("input", { name: "new_password", type: "password", required: true,
    minlength: 10, maxlength: 1024, autocomplete: "new-password" });
  const again = h("input", { name: "again", type: "password", required: true, minlength: 10,
    maxlength: 1024, autocomplete: "new-password" });
  const form = h("form", { class: "login-form", "aria-label": t("reset.new_form") },
    field(t("reset.new_password"), next, t("reset.new_password_hint")),
    field(t("reset.repeat"), again),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("reset.save")));
  // A short or unrepeated password is said under its field (forms.js), the server's
  // refusal too; a used or expired link is said at the top (no field can fix it).
  onSubmit(form, async () => {
    const v = formValues(form);
    if (v.new_password !== v.again) throw new FieldProblem(again, t("reset.differ"));
    await api.post("/api/v1/auth/password-reset/confirm", { token, new_password: v.new_password });
    form.replaceWith(h("p", {}, t("reset.done")));
    showSuccess(t("reset.done_notice"));
  });
  document.title = `${t("reset.new_title")} \u00b7 Deskmate`;
  queueMicrotask(() => next.focus());
  return card(t("reset.new_title"), t("reset.new_sub"), notice, form);
}
