// The portal's satisfaction survey on a resolved ticket: a 1-5 score and a comment, which
// the requester may change for a while after their first answer (the server says until when).

import { api } from "./api.js";
import { busy, field, h, replace } from "./dom.js";
import { dateTime } from "./format.js";
import { t } from "./i18n.js";
import { clearNotice, guarded, showError, showSuccess } from "./notice.js";
import { stars } from "./problem_panel.js";
import { panel } from "./ui.js";

const SCORES = [5, 4, 3, 2, 1];

/** Return the survey panel of a resolved or closed ticket of the requester's. */
export function ratingPanel(ticketId) {
  const body = h("div", { class: "stack" });

  function answered(state) {
    return h("div", { class: "stack", "data-rated": String(state.score) },
      h("p", {}, stars(state.score), ` ${t("satisfaction.score", { score: state.score })}`),
      state.comment ? h("p", { class: "tl-note" }, state.comment) : null);
  }

  function form(state) {
    const choices = h("fieldset", { class: "choice-list rating-choices" },
      h("legend", {}, t("portal.rate_legend")),
      SCORES.map((score) => h("label", { class: "check" },
        h("input", { type: "radio", name: "score", value: String(score), required: true,
          checked: state.score === score || null }),
        t(`portal.rate.${score}`))));
    const comment = h("textarea", { name: "comment", rows: 3, maxlength: 2000 });
    comment.value = state.comment || "";
    const el = h("form", { class: "stack", "aria-label": t("portal.rate_title") }, choices,
      field(t("survey.comment"), comment),
      state.changeable_until ? h("p", { class: "muted small" },
        t("portal.rate_until", { when: dateTime(state.changeable_until) })) : null,
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "btn btn-primary" },
          state.score ? t("portal.rate_change") : t("portal.rate_send"))));
    el.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearNotice();
      const picked = el.querySelector("input[name=score]:checked");
      try {
        const saved = await busy(el, () => api.put(`/api/v1/tickets/${ticketId}/rating`,
          { score: Number(picked.value), comment: comment.value }));
        showSuccess(t("portal.rated"));
        show(saved);
      } catch (error) {
        showError(error);
      }
    });
    return el;
  }

  function show(state) {
    const open = !state.score || state.changeable_until;
    replace(body, state.score ? answered(state) : null, open ? form(state) : null);
  }

  guarded(async () => show(await api.get(`/api/v1/tickets/${ticketId}/rating`)));
  return panel(t("portal.rate_title"), body, { cls: "panel-rating" });
}
