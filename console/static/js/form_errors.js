// Field-level error messages: next to the field, announced, and cleared on the next try.
//
// A field's wrapper carries data-field="path" (e.g. "targets.resolution",
// "escalations[0].group_id"); an API error naming a path ("... - at `$.targets.resolution`"
// from schema validation, or "escalations[0].group_id: no group ..." from a rule) lands on
// the wrapper whose path is the longest prefix of it.

import { h } from "./dom.js";
import { showError } from "./notice.js";

/** Remove every field error of a form. */
export function clearErrors(form) {
  form.querySelectorAll(".field-error").forEach((el) => el.remove());
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
}

/** Put `message` next to the field wrapper (or control) `target`; return its first control. */
export function fieldError(target, message) {
  const wrapper = target.matches("[data-field], .field, fieldset") ? target
    : target.closest("[data-field], .field") || target;
  const id = `err-${Math.random().toString(36).slice(2, 9)}`;
  const note = h("p", { class: "field-error", id, role: "alert" }, message);
  wrapper.append(note);
  const controls = wrapper.matches("input, select, textarea") ? [wrapper]
    : [...wrapper.querySelectorAll("input, select, textarea")];
  for (const control of controls) {
    control.setAttribute("aria-invalid", "true");
    const described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    control.setAttribute("aria-describedby", [...described, id].join(" "));
  }
  return controls[0] || null;
}

/** Return the path an API error message names, or "". */
export function errorPath(message) {
  const text = String(message || "");
  const at = text.match(/at `\$\.([^`]+)`/);
  if (at) return at[1];
  const lead = text.match(/^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+)*):/);
  return lead ? lead[1] : "";
}

function sentence(text) {
  const s = String(text || "").trim();
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

/**
 * Show an API error next to the field it names (by data-field path, or by `byCode` for a
 * code such as "conflict"); anything else goes to the notice area.
 */
export function placeError(form, error, { byCode = {} } = {}) {
  const path = errorPath(error && error.message) || (error && error.code && byCode[error.code]);
  if (path) {
    const wrappers = [...form.querySelectorAll("[data-field]")];
    const match = wrappers.filter((w) => path === w.dataset.field || path.startsWith(`${w.dataset.field}.`)
      || path.startsWith(`${w.dataset.field}[`))
      .sort((a, b) => b.dataset.field.length - a.dataset.field.length)[0];
    if (match) {
      // The field's name is shown by its label: drop it (and a schema path) from the text.
      const text = error.message.replace(/ - at `\$\.[^`]+`$/, "").replace(/^[a-z_]+(?:\[\d+\])?(?:\.[a-z_]+)*: /, "");
      const control = fieldError(match, sentence(text));
      if (control) control.focus();
      return;
    }
  }
  showError(error);
}

/** Show the client-side problems `[wrapper, message]` next to their fields; focus the first. */
export function showProblems(problems) {
  let first = null;
  for (const [target, message] of problems) {
    const control = fieldError(target, message);
    first = first || control;
  }
  if (first) first.focus();
  return problems.length > 0;
}
