// Admin → Outgoing mail: the SMTP server notifications go through (console values over
// the configuration file's), a write-only password, and "send a test mail".

import { api } from "../api.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { clearFieldErrors, placeError, showFieldErrors } from "../forms.js";
import { t } from "../i18n.js";
import { clearNotice, guarded, showSuccess } from "../notice.js";
import { mailTabs } from "../mail_tabs.js";
import { panel } from "../ui.js";

const LOCAL = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);
const HOST = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9a-fA-F:]+)$/;
const FROM = /^(?:[^<>@\r\n]*<[^<>\s@]+@[^<>\s@]+\.[^<>\s@]+>|[^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)$/;
const EMAIL = /^[^@\s]+@[^@\s]+$/;
const FIELDS = ["smtp_host", "smtp_port", "smtp_security", "smtp_username", "mail_from"];

/** Fill the outgoing mail view. */
export function mailSettingsView(root, { user }) {
  let current = null;
  const status = h("p", { class: "hint", "data-mail-status": "" });
  const settingsHost = h("div");
  const testResult = h("div", { "aria-live": "polite" });

  function sourceHint(name) {
    return current.sources[name] === "console" ? t("mail.source.console") : t("mail.source.config");
  }

  function wrap(path, el) {
    el.dataset.field = path;
    return el;
  }

  function render() {
    status.textContent = current.enabled ? t("mail.status.on", { host: current.smtp_host })
      : t("mail.status.off");
    const security = h("select", { name: "smtp_security" }, ["starttls", "tls", "none"].map((s) =>
      h("option", { value: s, selected: s === current.smtp_security }, t(`mail.security.${s}`))));
    const password = h("input", { name: "smtp_password", type: "password", autocomplete: "new-password",
      maxlength: 1024, placeholder: current.password_set ? t("mail.password.keep") : t("mail.password.none") });
    const form = h("form", { class: "stack settings-form", novalidate: true, "aria-label": t("mail.form") },
      h("div", { class: "row-2" },
        wrap("smtp_host", field(t("mail.field.host"), h("input", { name: "smtp_host", maxlength: 253,
          value: current.smtp_host, placeholder: "smtp.example.org", autocapitalize: "none", spellcheck: "false" }),
        `${t("mail.hint.host")} ${sourceHint("smtp_host")}`)),
        wrap("smtp_port", field(t("mail.field.port"), h("input", { name: "smtp_port", inputmode: "numeric",
          value: String(current.smtp_port) }), sourceHint("smtp_port")))),
      wrap("smtp_security", field(t("mail.field.security"), security, current.allow_plaintext
        ? t("mail.hint.security_plain") : t("mail.hint.security"))),
      h("div", { class: "row-2" },
        wrap("smtp_username", field(t("mail.field.username"), h("input", { name: "smtp_username", maxlength: 254,
          value: current.smtp_username, autocomplete: "off", autocapitalize: "none", spellcheck: "false" }),
        t("mail.hint.username"))),
        wrap("smtp_password", field(t("mail.field.password"), password,
          current.password_set ? t("mail.password.is_set") : t("mail.password.not_set")))),
      current.password_set ? h("label", { class: "check" }, h("input", { type: "checkbox", name: "clear_password" }),
        t("mail.password.clear")) : null,
      wrap("mail_from", field(t("mail.field.from"), h("input", { name: "mail_from", maxlength: 300,
        value: current.mail_from, placeholder: t("mail.placeholder.from") }), t("mail.hint.from"))),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => reset(form) }, t("mail.reset")),
        h("button", { type: "submit", class: "btn btn-primary" }, t("mail.save"))));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save(form);
    });
    replace(settingsHost, form);
  }

  async function save(form) {
    clearNotice();
    clearFieldErrors(form);
    const v = formValues(form);
    const at = (name) => form.querySelector(`[data-field="${name}"]`);
    const problems = [];
    const port = Number(v.smtp_port);
    if (v.smtp_host && !HOST.test(v.smtp_host)) problems.push([at("smtp_host"), t("mail.error.host")]);
    if (!/^\d+$/.test(v.smtp_port) || port < 1 || port > 65535) problems.push([at("smtp_port"), t("mail.error.port")]);
    if (v.smtp_host && !FROM.test(v.mail_from)) problems.push([at("mail_from"), t("mail.error.from")]);
    if (v.smtp_host && v.smtp_security === "none" && !LOCAL.has(v.smtp_host.toLowerCase()) && !current.allow_plaintext) {
      problems.push([at("smtp_security"), t("mail.error.plaintext", { host: v.smtp_host })]);
    }
    if (showFieldErrors(problems)) return;
    const body = {};
    for (const name of FIELDS) {
      const value = name === "smtp_port" ? port : v[name];
      if (value !== current[name]) body[name] = value;
    }
    if (v.clear_password) body.smtp_password = "";
    else if (v.smtp_password) body.smtp_password = v.smtp_password;
    if (!Object.keys(body).length) {
      showSuccess(t("mail.unchanged"));
      return;
    }
    try {
      current = await busy(form, () => api.patch("/api/v1/settings/mail", body));
      render();
      showSuccess(current.enabled ? t("mail.saved_on", { host: current.smtp_host }) : t("mail.saved_off"));
    } catch (error) {
      placeError(form, error);
    }
  }

  async function reset(form) {
    clearNotice();
    clearFieldErrors(form);
    const body = Object.fromEntries([...FIELDS, "smtp_password"].map((n) => [n, null]));
    try {
      current = await busy(form, () => api.patch("/api/v1/settings/mail", body));
      render();
      showSuccess(t("mail.reset_done"));
    } catch (error) {
      placeError(form, error);
    }
  }

  const to = h("input", { name: "to", type: "email", maxlength: 254, value: user.email || "", autocomplete: "email" });
  const toField = field(t("mail.test.to"), to);
  toField.dataset.field = "to";
  const testForm = h("form", { class: "inline-form", novalidate: true, "aria-label": t("mail.test.form") },
    toField, h("button", { type: "submit", class: "btn" }, t("mail.test.send")));
  testForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    clearFieldErrors(testForm);
    replace(testResult);
    const address = to.value.trim();
    if (!EMAIL.test(address)) {
      showFieldErrors([[toField, t("mail.error.to")]]);
      return;
    }
    try {
      const answer = await busy(testForm, () => api.post("/api/v1/settings/mail/test", { to: address }));
      replace(testResult, h("p", { class: answer.sent ? "notice notice-success" : "notice notice-error",
        role: answer.sent ? "status" : "alert", "data-sent": String(answer.sent) },
      answer.sent ? t("mail.test.sent", { to: address }) : t("mail.test.failed", { reason: answer.message })));
    } catch (error) {
      placeError(testForm, error, { byCode: { validation_error: "to" } });
    }
  });

  root.append(
    mailTabs("#/admin/mail"),
    panel(t("mail.title"), [status, settingsHost]),
    panel(t("mail.test.title"), [h("p", { class: "hint" }, t("mail.test.hint")), testForm, testResult]));
  guarded(async () => {
    current = await api.get("/api/v1/settings/mail");
    render();
  });
}
