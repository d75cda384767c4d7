// Field-level error messages: shown next to the control they are about, in plain words.
//
// A form checks what it can before sending (blank names, tag shapes) and places the
// server's refusal next to the field it names: messages like "tag: ..." or msgspec's
// "... - at `$.tag`" are matched to the control of that name. Nothing is saved on error:
// the request is either not sent or refused as a whole.

import { h } from "./dom.js";
import { t } from "./i18n.js";

/** Remove every field error of a form. */
export function clearFieldErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    const ids = (el.getAttribute("aria-describedby") || "").split(" ")
      .filter((id) => id && !id.endsWith("-error"));
    if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
    else el.removeAttribute("aria-describedby");
  }
}

/** Show `message` under `control` (an input, select, or a fieldset of radios). */
export function fieldError(control, message) {
  const id = `${control.id || control.name || "field"}-error`;
  const previous = document.getElementById(id);
  if (previous) previous.remove();
  const note = h("p", { class: "field-error", id }, message);
  const holder = control.closest(".field") || control.parentElement;
  holder.append(note);
  control.setAttribute("aria-invalid", "true");
  const described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  control.setAttribute("aria-describedby", [...described, id].join(" "));
  return note;
}

/** Focus the first control of a form that has an error. */
export function focusFirstError(form) {
  const first = form.querySelector("[aria-invalid='true']");
  if (first) first.focus();
}

const MSGSPEC_AT = /\s-\sat\s`\$\.(\w+)/;
const NAMED = /^(\w+):\s*(.+)$/s;

/**
 * Place an API error next to the field it names; return true when it found one.
 * msgspec's own wording ("Expected `str` of length >= 1") is replaced by a plain sentence.
 */
export function placeServerError(form, error) {
  const text = String((error && error.message) || "");
  let name = null;
  let message = text;
  const at = MSGSPEC_AT.exec(text);
  if (at) {
    name = at[1];
    message = t("form.error.invalid");
  } else {
    const named = NAMED.exec(text);
    if (named) {
      name = named[1];
      message = named[2];
    }
  }
  const control = name && form.elements.namedItem(name);
  if (!control) return false;
  const target = control instanceof RadioNodeList ? control[0].closest("fieldset") || control[0] : control;
  fieldError(target, message.charAt(0).toUpperCase() + message.slice(1));
  focusFirstError(form);
  return true;
}
