// Messages next to the form field they are about, in plain words, read out by screen readers.
//
// A form checks what it can before sending (blank names, tag shapes); the API's refusals
// that name a field (the error body's `field`, "tag: ..." or msgspec's "... - at `$.tag`")
// are put next to that field. Nothing is saved on error: the request is either not sent
// or refused as a whole.

import { h } from "./dom.js";
import { t } from "./i18n.js";

let counter = 0;

/** Put `message` under `control` (an input, select, textarea or a fieldset) and mark it invalid. */
export function setFieldError(control, message) {
  const host = control.closest(".field, .field-check, fieldset") || control.parentElement;
  let box = host.querySelector(":scope > .field-error");
  if (!box) {
    counter += 1;
    box = h("p", { class: "field-error", id: `field-error-${counter}` });
    host.append(box);
  }
  box.textContent = message;
  control.setAttribute("aria-invalid", "true");
  const described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  if (!described.includes(box.id)) control.setAttribute("aria-describedby", [...described, box.id].join(" "));
  return box;
}

/** Show `message` under `control` (another name of setFieldError); return the message element. */
export function fieldError(control, message) {
  return setFieldError(control, message);
}

/** Remove every field message of `form` (before a new attempt). */
export function clearFieldErrors(form) {
  for (const box of form.querySelectorAll(".field-error")) {
    for (const el of form.querySelectorAll(`[aria-describedby~="${box.id}"]`)) {
      const rest = el.getAttribute("aria-describedby").split(" ").filter((id) => id && id !== box.id);
      if (rest.length) el.setAttribute("aria-describedby", rest.join(" "));
      else el.removeAttribute("aria-describedby");
    }
    box.remove();
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/**
 * Show each [control, message] pair of `problems` (null messages skipped) and focus the
 * first; return true when there was any.
 */
export function showFieldErrors(problems) {
  const real = problems.filter(([control, message]) => control && message);
  for (const [control, message] of real) setFieldError(control, message);
  if (real.length) real[0][0].focus();
  return real.length > 0;
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
  let name = (error && error.field) || null;
  let message = text;
  const at = MSGSPEC_AT.exec(text);
  if (name) {
    // The server named the field; its message is already a sentence for people.
  } else if (at) {
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
