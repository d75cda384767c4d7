// The page a satisfaction link of a resolution mail opens: no login, the link is the key.
// Opening it records the score the link carries; the page then takes a comment.

import { api } from "../api.js";
import { busy, field, h, replace } from "../dom.js";
import { t } from "../i18n.js";
import { clearNotice, setNoticeHost, showError, showSuccess } from "../notice.js";

function card(...content) {
  return h("div", { class: "login-page" },
    h("div", { class: "login-card", "data-survey": "" },
      h("div", { class: "login-brand" },
        h("img", { src: "/static/img/logo.svg", alt: "", width: 40, height: 40 }),
        h("span", { class: "brand-name" }, "Deskmate")),
      h("h1", { class: "login-title" }, t("survey.title")),
      ...content));
}

/** Return the survey page of one link: record its score, then offer a comment. */
export function surveyPage(token) {
  const notice = h("div", { class: "notice-host", hidden: true, "aria-live": "polite" });
  setNoticeHost(notice);
  const body = h("div", { class: "stack" }, h("p", { class: "muted" }, t("survey.recording")));
  document.title = `${t("survey.title")} \u00b7 Deskmate`;

  function commentForm() {
    const text = h("textarea", { name: "comment", rows: 4, maxlength: 2000, required: true });
    const form = h("form", { class: "login-form", "aria-label": t("survey.comment_form") },
      field(t("survey.comment"), text),
      h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("survey.send")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearNotice();
      try {
        await busy(form, () => api.post("/api/v1/survey/comment", { token, comment: text.value }));
        form.replaceWith(h("p", { "data-survey-done": "" }, t("survey.comment_saved")));
        showSuccess(t("survey.comment_saved"));
      } catch (error) {
        showError(error);
      }
    });
    return form;
  }

  (async () => {
    try {
      const state = await api.post("/api/v1/survey/answer", { token });
      replace(body,
        h("p", { "data-survey-score": String(state.score) },
          t("survey.thanks", { number: state.number, score: state.score })),
        h("p", { class: "muted" }, state.title),
        commentForm());
    } catch (error) {
      const key = { invalid_link: "survey.invalid", expired_link: "survey.expired",
        used_link: "survey.used", already_rated: "survey.already", not_resolved: "survey.not_resolved" }[error.code];
      replace(body, h("p", { role: "alert", "data-survey-refused": error.code || "" },
        key ? t(key) : error.message),
      h("p", {}, h("a", { href: "#/login" }, t("survey.to_portal"))));
    }
  })();
  return card(notice, body);
}
