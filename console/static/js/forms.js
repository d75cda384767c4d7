// Field errors: what is wrong with a form is said next to the field, in plain words, and
// the focus goes there. The one module for it (every form of the console uses it):
//
// - the form's own rules (required, lengths, e-mail, numbers) are checked before anything
//   is sent (checkFields, problemOf), or a page's own checks are shown as [target, message]
//   pairs (showFieldErrors);
// - an API refusal is put next to the field it names (placeFieldError): the error body's
//   `field`, the path of msgspec's older "... - at `$.name`" messages, a rule's
//   "path: message", or the page's `byCode` map for a code such as "conflict";
// - anything else goes to the notice area (placeError, onSubmit).
//
// A target is a control (input, select, textarea, button) or a field's wrapper
// (data-field="path", .field, fieldset): the message goes under the control, or at the end
// of the wrapper with every control in it marked. Marked controls carry aria-invalid and
// name the message in aria-describedby; the mark goes as soon as the value changes.

import { ApiError } from "./api.js";
import { busy, h } from "./dom.js";
import { t } from "./i18n.js";
import { clearNotice, showError } from "./notice.js";

const CHECKED = "input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=file]), select, textarea";
const CONTROL = "input, select, textarea, button";
const VALUE = "input, select, textarea"; // the controls of a wrapper that get the mark
const WRAPPER = "[data-field], .field, .field-check, fieldset";
const SCHEMA_AT = / - at `\$\.([^`]+)`/; // msgspec: "Expected `int` >= 0 - at `$.targets.x`"
const LEAD = /^([A-Za-z_]\w*(?:\[\d+\])?(?:\.\w+(?:\[\d+\])?)*):\s*/s; // "escalations[0].group_id: ..."

let counter = 0;

/** Return the words a person reads for a control: its label, else its aria-label. */
function labelOf(control) {
  const label = (control.id && control.form?.querySelector(`label[for="${CSS.escape(control.id)}"]`))
    || control.closest("label");
  const text = (label ? label.textContent : control.getAttribute("aria-label") || control.name || "").trim();
  return text.replace(/\s*\(.*\)$/, ""); // "Warning at (%)" -> "Warning at"
}

/** Return `text` as a sentence: trimmed, with a capital first letter. */
function sentence(text) {
  const s = String(text || "").trim();
  return s ? s[0].toUpperCase() + s.slice(1) : s;
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

/** Remove the message `id` and its marks from every control that names it. */
function removeError(id) {
  document.getElementById(id)?.remove();
  for (const control of document.querySelectorAll(`[data-error-id="${CSS.escape(id)}"]`)) {
    const rest = (control.getAttribute("aria-describedby") || "").split(/\s+/).filter((x) => x && x !== id);
    if (rest.length) control.setAttribute("aria-describedby", rest.join(" "));
    else control.removeAttribute("aria-describedby");
    control.removeAttribute("aria-invalid");
    delete control.dataset.errorId;
  }
}

/** Remove every field error shown in `form` (before a new attempt). */
export function clearFieldErrors(form) {
  for (const control of form.querySelectorAll("[data-error-id]")) removeError(control.dataset.errorId);
  form.querySelectorAll(".field-error").forEach((note) => note.remove());
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
}

/** Return whether `el` is a field's wrapper rather than one control. */
function isWrapper(el) {
  return !el.matches(CONTROL) && el.matches(WRAPPER);
}

/**
 * Show `message` next to `target` (a control, or a field's wrapper) and mark its controls
 * invalid; focus the first when `focus`. Return the first control (or null).
 */
export function fieldError(target, message, { focus = false } = {}) {
  const wrapper = isWrapper(target) ? target : null;
  const controls = wrapper ? [...wrapper.querySelectorAll(VALUE)].filter((c) => !c.disabled) : [target];
  for (const control of controls) if (control.dataset.errorId) removeError(control.dataset.errorId);
  counter += 1;
  const id = `field-error-${counter}`;
  const note = h("p", { class: "field-error", id }, message);
  if (wrapper) {
    wrapper.append(note);
  } else {
    // At the end of the control's .field (else under the control or its input group),
    // before the field's hint when it has one.
    const host = target.closest(".field:not(label)");
    const anchor = target.closest(".input-group, label") || target;
    const hint = (host || anchor.parentElement)?.querySelector(":scope > .hint");
    if (hint) hint.before(note);
    else if (host) host.append(note);
    else anchor.after(note);
  }
  for (const control of controls) {
    control.dataset.errorId = id;
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby",
      [id, ...(control.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean)].join(" "));
    control.addEventListener("input", () => removeError(id), { once: true });
    control.addEventListener("change", () => removeError(id), { once: true });
  }
  const first = controls[0] || null;
  if (focus && first) first.focus();
  return first;
}

/** Show `message` under `control` and focus it (fieldError with the focus by default). */
export function showFieldError(control, message, { focus = true } = {}) {
  return fieldError(control, message, { focus });
}

/**
 * Show each [target, message] pair of `problems` (pairs without a target or a message are
 * skipped) and focus the first; return true when there was any.
 */
export function showFieldErrors(problems) {
  let first = null;
  for (const [target, message] of problems) {
    if (!target || !message) continue;
    const control = fieldError(target, message);
    first = first || control || target;
  }
  if (first) first.focus();
  return first !== null;
}

/** Focus the first control of `form` that has an error. */
export function focusFirstError(form) {
  form.querySelector("[aria-invalid='true']")?.focus();
}

/** Check every control of `form` by its rules; show each problem; focus the first. True if none. */
export function checkFields(form) {
  let first = null;
  for (const control of form.querySelectorAll(CHECKED)) {
    if (control.closest("[hidden]")) continue; // a part of the form not in use
    const problem = problemOf(control);
    if (!problem) continue;
    fieldError(control, problem);
    first = first || control;
  }
  if (first) first.focus();
  return !first;
}

/**
 * Return what of `form` a field path names: the [data-field] wrapper whose path is the
 * longest prefix of it, else the control of that name ("fields[0].label" -> fields).
 */
function targetFor(form, path) {
  if (!path) return null;
  const wrapper = [...form.querySelectorAll("[data-field]")]
    .filter((w) => path === w.dataset.field || path.startsWith(`${w.dataset.field}.`)
      || path.startsWith(`${w.dataset.field}[`))
    .sort((a, b) => b.dataset.field.length - a.dataset.field.length)[0];
  if (wrapper) return wrapper;
  const named = (name) => {
    const item = form.elements.namedItem(name);
    if (item instanceof RadioNodeList) return item[0] ? item[0].closest("fieldset") || item[0] : null;
    return item && !item.disabled ? item : null;
  };
  return named(path) || named(path.split(/[.[]/)[0]) || null;
}

/**
 * Return `message` with the field path `path` said by the field's `label` ("urls[0] is not
 * in the expected format" -> "Server URLs is ..."): where it opens the message, or anywhere
 * when it reads as a path (a plain word mid-sentence, such as "name", is left alone).
 */
function withLabel(message, path, label) {
  const at = message.indexOf(path);
  if (!label || at < 0) return message;
  const before = at > 0 ? message[at - 1] : " ";
  const after = message[at + path.length] || " ";
  if (/[\w.[\]]/.test(before) || /[\w[]/.test(after)) return message; // part of a longer word
  if (at > 0 && !/[_.[]/.test(path)) return message;
  return message.slice(0, at) + label + message.slice(at + path.length);
}

/**
 * Put an API error next to the field it names (the body's `field`, a schema or rule path
 * in its message, or `byCode[error.code]`) and focus it; return true when shown.
 * A schema message the server did not put into words is said by the field's label.
 */
export function placeFieldError(form, error, { byCode = {} } = {}) {
  const text = String((error && error.message) || "");
  const at = SCHEMA_AT.exec(text)?.[1];
  const lead = LEAD.exec(text)?.[1];
  const paths = [error && error.field, at, lead, error && error.code && byCode[error.code]];
  let target = null;
  for (const path of paths) {
    target = targetFor(form, path);
    if (target) break;
  }
  if (!target) return false;
  // The field's name is shown by its label: drop it (and a schema path) from the text.
  let message = text.replace(SCHEMA_AT, "");
  if (lead) message = message.replace(LEAD, "");
  const control = isWrapper(target) ? target.querySelector(VALUE) : target;
  const label = control ? labelOf(control) : "";
  const blank = control && typeof control.value === "string" && !control.value.trim() && control.type !== "file";
  if (blank) {
    // Whatever rule refused it, an empty field is said the same way on every form.
    message = t("form.error.required", { label });
  } else if (/`|\$\./.test(message)) { // msgspec's own wording: "Expected `str` of length >= 1"
    message = t(/length >= 1\b|must not be blank/.test(message) ? "form.error.required" : "form.error.invalid", { label });
  } else if (error && error.field) {
    message = withLabel(message, error.field, label); // "urls[0] is ..." -> "Server URLs is ..."
  }
  fieldError(target, sentence(message), { focus: true });
  return true;
}

/** Show an API error next to the field it names (see placeFieldError), else in the notice area. */
export function placeError(form, error, options = {}) {
  if (!placeFieldError(form, error, options)) showError(error);
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
 * Return whether `error` is an API validation error (422), or another refusal naming its
 * field (a name taken, a wrong code), shown next to its field.
 */
export function showApiFieldError(form, error) {
  return error instanceof ApiError && (error.status === 422 || !!error.field)
    && placeFieldError(form, error);
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
