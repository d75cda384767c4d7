// Admin → Mail templates: the subject and body of each notification, per language, with
// ${name} placeholders; preview with made-up values, "send me a test", reset to default.
// The server checks every template (unknown placeholder, stray $) and keeps the threading
// headers and the [#number] tag whatever the text says.

import { api } from "../api.js";
import { busy, field, h, replace } from "../dom.js";
import { clearFieldErrors, placeError } from "../forms.js";
import { availableLanguages, language as uiLanguage, t } from "../i18n.js";
import { clearNotice, guarded, showSuccess } from "../notice.js";
import { mailTabs } from "../mail_tabs.js";
import { panel } from "../ui.js";

const KINDS = ["received", "reply", "resolved", "assigned", "requester_reply", "sla"];

/** Fill the mail templates view. */
export function mailTemplatesView(root, { user }) {
  let items = [];
  let names = new Map();
  const kind = h("select", { name: "kind" }, KINDS.map((k) => h("option", { value: k }, t(`templates.kind.${k}`))));
  const language = h("select", { name: "language" });
  const editorHost = h("div");
  const previewHost = h("div", { "aria-live": "polite" });

  function current() {
    return items.find((i) => i.kind === kind.value && i.language === language.value);
  }

  function render() {
    const item = current();
    if (!item) return;
    // The mail's own text, in the template's language (not the console's): lang says which,
    // translate="no" keeps page translators and the language checks out of it.
    const mailText = { lang: item.language, translate: "no", spellcheck: "false" };
    const subject = h("input", { name: "subject", maxlength: 600, value: item.subject, autocomplete: "off",
      ...mailText });
    const body = h("textarea", { name: "body", rows: 16, class: "mono template-body", ...mailText }, item.body);
    const subjectField = field(t("templates.subject"), subject, t("templates.subject_hint"));
    subjectField.dataset.field = "subject";
    const bodyField = field(t("templates.body"), body);
    bodyField.dataset.field = "body";
    const state = h("p", { class: "hint", "data-template-state": item.custom ? "custom" : "default" },
      item.custom ? t("templates.state.custom", { language: names.get(item.language) || item.language })
        : t("templates.state.default"));
    const insert = (name) => {
      const start = body.selectionStart ?? body.value.length;
      body.setRangeText(`\${${name}}`, start, body.selectionEnd ?? start, "end");
      body.focus();
    };
    const placeholders = h("div", { class: "template-placeholders" },
      h("h3", { class: "small strong", id: "template-placeholders" }, t("templates.placeholders")),
      h("ul", { class: "plain-list", "aria-labelledby": "template-placeholders" }, item.placeholders.map((name) =>
        h("li", {}, h("button", { type: "button", class: "btn btn-small mono", onclick: () => insert(name),
          "aria-label": t("templates.insert", { name: `\${${name}}` }) }, `\${${name}}`),
        " ", h("span", { class: "hint" }, t(`templates.ph.${name}`))))),
      h("p", { class: "hint" }, ...fixedHeaders()));
    const form = h("form", { class: "stack", novalidate: true, "aria-label": t("templates.form") },
      state,
      h("div", { class: "template-editor" },
        h("div", { class: "stack" }, subjectField, bodyField), placeholders),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", disabled: !item.custom, onclick: () => reset(form) },
          t("templates.reset")),
        h("button", { type: "button", class: "btn", onclick: () => preview(form) }, t("templates.preview")),
        h("button", { type: "button", class: "btn", onclick: () => sendTest(form) }, t("templates.test")),
        h("button", { type: "submit", class: "btn btn-primary" }, t("templates.save"))));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save(form);
    });
    replace(editorHost, form);
    replace(previewHost);
  }

  function text(form) {
    return { subject: form.elements.subject.value, body: form.elements.body.value };
  }

  function path() {
    return `/api/v1/mail/templates/${kind.value}/${language.value}`;
  }

  function update(item) {
    items = items.map((i) => (i.kind === item.kind && i.language === item.language ? item : i));
  }

  async function save(form) {
    clearNotice();
    clearFieldErrors(form);
    try {
      const item = await busy(form, () => api.put(path(), text(form)));
      update(item);
      render();
      showSuccess(t("templates.saved"));
    } catch (error) {
      placeError(form, error);
    }
  }

  async function reset(form) {
    clearNotice();
    clearFieldErrors(form);
    try {
      const item = await busy(form, () => api.delete(path()));
      update(item);
      render();
      showSuccess(t("templates.reset_done"));
    } catch (error) {
      placeError(form, error);
    }
  }

  async function preview(form) {
    clearNotice();
    clearFieldErrors(form);
    try {
      const shown = await busy(form, () => api.post(`${path()}/preview`, text(form)));
      replace(previewHost, panel(t("templates.preview_title"), [
        h("p", { class: "strong", "data-preview-subject": "", lang: language.value, translate: "no" },
          shown.subject),
        h("pre", { class: "template-preview", "data-preview-body": "", lang: language.value, translate: "no" },
          shown.body)]));
    } catch (error) {
      placeError(form, error);
    }
  }

  async function sendTest(form) {
    clearNotice();
    clearFieldErrors(form);
    try {
      const answer = await busy(form, () => api.post(`${path()}/test`, text(form)));
      replace(previewHost, h("p", { class: answer.sent ? "notice notice-success" : "notice notice-error",
        role: answer.sent ? "status" : "alert", "data-sent": String(answer.sent) },
      answer.sent ? t("templates.test_sent", { to: answer.to }) : t("templates.test_failed", { reason: answer.message })));
    } catch (error) {
      if (error && (error.code === "mail_off" || error.code === "no_email")) {
        replace(previewHost, h("p", { class: "notice notice-error", role: "alert", "data-sent": "false" },
          t(`templates.error.${error.code}`, { email: user.email || "" })));
        return;
      }
      placeError(form, error);
    }
  }

  const pick = h("form", { class: "inline-form", "aria-label": t("templates.pick") },
    field(t("templates.kind"), kind), field(t("templates.language"), language));
  kind.addEventListener("change", render);
  language.addEventListener("change", render);

  root.append(mailTabs("#/admin/mail/templates"), panel(t("templates.title"), [h("p", { class: "hint" }, t("templates.intro")), pick, editorHost]),
    previewHost);
  guarded(async () => {
    const [list, langs] = await Promise.all([api.get("/api/v1/mail/templates"), availableLanguages()]);
    items = list.items;
    names = new Map(langs.map((l) => [l.code, l.name]));
    // The console's own language first: the texts an admin reads every day.
    replace(language, ...list.languages.map((code) => h("option", { value: code, selected: code === uiLanguage() },
      names.get(code) || code)));
    render();
  });
}

// The note on the headers the server always adds; their names are protocol, not words
// to translate (translate="no").
function fixedHeaders() {
  const [before, after] = t("templates.fixed").split("{headers}");
  const names = h("code", { translate: "no" }, "Message-ID, In-Reply-To, References, Auto-Submitted");
  return after === undefined ? [before] : [before, names, after];
}

