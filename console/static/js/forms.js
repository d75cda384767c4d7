// Field errors: what is wrong with a form is said next to the field, in plain words, and
// the focus goes there. The form's own rules (required, lengths, e-mail, numbers) are
// checked before anything is sent; a 422 answer that names its field (error.field) lands
// next to that field too. Anything else goes to the notice area as before.

import { ApiError } from "./api.js";
import { busy, h } from "./dom.js";
import { t } from "./i18n.js";
import { clearNotice, showError } from "./notice.js";

const CHECKED = "input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=file]), select, textarea";

/** Return the words a person reads for a control: its label, else its aria-label. */
function labelOf(control) {
  const label = (control.id && control.form?.querySelector(`label[for="${CSS.escape(control.id)}"]`))
    || control.closest("label");
  const text = (label ? label.textContent : control.getAttribute("aria-label") || control.name || "").trim();
  return text.replace(/\s*\(.*\)$/, ""); // "Warning at (%)" -> "Warning at"
}

/** Return what is wrong with one control's value by its own rules, or "" when nothing. */
export function problemOf(control) {
  if (control.disabled || control.type === "checkbox" || control.type === "radio") return "";
  const label = labelOf(control);
  const value = control.type === "password" ? control.value : control.value.trim();
  const v = control.validity;
  if (!value) {
    return control.required || v.valueMissing ? t("form.error.required", { label }) : "";
  }
  if (v.badInput) return t("form.error.number", { label });
  if (control.minLength > 0 && value.length < control.minLength) {
    return t("form.error.too_short", { label, n: control.minLength });
  }
  if (control.maxLength > 0 && value.length > control.maxLength) {
    return t("form.error.too_long", { label, n: control.maxLength });
  }
  if (v.typeMismatch) return t(control.type === "email" ? "form.error.email" : "form.error.invalid", { label });
  if (v.rangeUnderflow) return t("form.error.min", { label, n: control.min });
  if (v.rangeOverflow) return t("form.error.max", { label, n: control.max });
  if (v.stepMismatch) return t("form.error.number", { label });
  if (v.patternMismatch) return t("form.error.pattern", { label });
  if (!v.valid) return t("form.error.invalid", { label });
  return "";
}

/** Remove the message (and the marks) of one control. */
function clearControl(control) {
  const id = control.dataset.errorId;
  if (!id) return;
  document.getElementById(id)?.remove();
  const rest = (control.getAttribute("aria-describedby") || "").split(/\s+/).filter((x) => x && x !== id);
  if (rest.length) control.setAttribute("aria-describedby", rest.join(" "));
  else control.removeAttribute("aria-describedby");
  control.removeAttribute("aria-invalid");
  delete control.dataset.errorId;
}

/** Remove every field error shown in `form`. */
export function clearFieldErrors(form) {
  for (const control of form.querySelectorAll("[data-error-id]")) clearControl(control);
}

/**
 * Show `message` under `control`: marked aria-invalid, the message named by its
 * aria-describedby; it goes away as soon as the value changes.
 */
export function showFieldError(control, message, { focus = true } = {}) {
  clearControl(control);
  if (!control.id) control.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  const id = `${control.id}-error`;
  const note = h("p", { class: "field-error", id }, message);
  // Under the control (or its input group), before its hint when it has one.
  const anchor = control.closest(".input-group, label") || control;
  const hint = anchor.parentElement?.querySelector(":scope > .hint");
  if (hint) hint.before(note);
  else anchor.after(note);
  control.dataset.errorId = id;
  control.setAttribute("aria-invalid", "true");
  control.setAttribute("aria-describedby",
    [id, ...(control.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean)].join(" "));
  control.addEventListener("input", () => clearControl(control), { once: true });
  control.addEventListener("change", () => clearControl(control), { once: true });
  if (focus) control.focus();
}

/** Check every control of `form` by its rules; show each problem; focus the first. True if none. */
export function checkFields(form) {
  let first = null;
  for (const control of form.querySelectorAll(CHECKED)) {
    if (control.closest("[hidden]")) continue; // a part of the form not in use
    const problem = problemOf(control);
    if (!problem) continue;
    showFieldError(control, problem, { focus: false });
    first = first || control;
  }
  if (first) first.focus();
  return !first;
}

/** Return the control of `form` a server's field path names ("fields[0].label" -> fields). */
function controlFor(form, path) {
  if (!path) return null;
  const named = (name) => [...form.querySelectorAll(CHECKED)].find((c) => c.name === name && !c.disabled);
  return named(path) || named(path.split(/[.[]/)[0]) || null;
}

/**
 * Put an API validation error that names its field next to that field; return true when
 * shown. A schema message the server did not put into words is said by the label.
 */
export function showApiFieldError(form, error) {
  if (!(error instanceof ApiError) || error.status !== 422) return false;
  const control = controlFor(form, error.field);
  if (!control) return false;
  const raw = /`|\$\./.test(error.message); // "Expected `str` of length >= 1 - at `$.x`"
  const label = labelOf(control);
  const message = !raw ? error.message.charAt(0).toUpperCase() + error.message.slice(1)
    : t(/length >= 1\b|must not be blank/.test(error.message) ? "form.error.required" : "form.error.invalid", { label });
  showFieldError(control, message);
  return true;
}

/** A problem with one field found while submitting: throw it from `onSubmit`'s work. */
export class FieldProblem extends Error {
  constructor(control, message) {
    super(message);
    this.name = "FieldProblem";
    this.control = control;
  }
}

/**
 * Handle `form`'s submit in one place: the browser's own bubbles are off, the fields are
 * checked first, `work(event)` runs with the form busy, and its error (a FieldProblem, an
 * API validation error naming its field, anything else) is shown next to its field or in
 * the notice area.
 */
export function onSubmit(form, work, { busyForm = true } = {}) {
  form.noValidate = true;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    clearFieldErrors(form);
    if (!checkFields(form)) return;
    try {
      await (busyForm ? busy(form, () => work(event)) : work(event));
    } catch (error) {
      // Shown once the form is enabled again, so that the focus can go to the field.
      if (error instanceof FieldProblem) showFieldError(error.control, error.message);
      else if (!showApiFieldError(form, error)) showError(error);
    }
  });
}
