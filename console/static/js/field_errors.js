// Messages next to the form field they are about, in plain words, read out by screen readers.
//
// A form checks what it can before sending; the API's refusals that name a field (a name
// already taken, a category moved under itself) are put next to that field by the view.

import { h } from "./dom.js";

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
