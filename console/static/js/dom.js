// Tiny DOM helpers. User text always becomes a text node: nothing here parses HTML.

// Set as properties; everything else is an attribute (so form.reset() restores defaults).
const PROPERTIES = new Set(["indeterminate"]);

/**
 * Create an element: h("button", {class: "btn", onclick: fn}, "Save").
 * Children may be strings (inserted as text), nodes, arrays, or null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "innerHTML" || name === "outerHTML" || name === "style") {
      // innerHTML would parse user text; inline styles are blocked by the CSP.
      throw new Error(`h(): attribute ${name} is not allowed`);
    }
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (PROPERTIES.has(name) || (name === "value" && tag === "select")) {
      el[name] = value;
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

/** Append children (text, nodes, nested arrays) to a parent. */
export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace all children of a parent. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/**
 * Return the named controls of a form as a plain object: trimmed strings (passwords as
 * typed), booleans for checkboxes, the checked value of a radio group ("" when none is
 * checked), and an array of the chosen values of a multiple select. File inputs and
 * buttons are left out: read `input.files` and the submitter directly.
 */
export function formValues(form) {
  const values = {};
  for (const el of form.elements) {
    if (!el.name || SKIPPED.has(el.type)) continue;
    if (el.type === "checkbox") values[el.name] = el.checked;
    else if (el.type === "radio") {
      // Every radio of the group comes by: only the checked one's value counts.
      if (el.checked) values[el.name] = el.value;
      else if (!(el.name in values)) values[el.name] = "";
    } else if (el.type === "select-multiple") {
      values[el.name] = [...el.selectedOptions].map((o) => o.value);
    } else if (el.type === "password") values[el.name] = el.value;
    else values[el.name] = el.value.trim();
  }
  return values;
}

const SKIPPED = new Set(["file", "submit", "button", "reset", "image"]);

/** Disable a form's controls while `work` runs; always re-enable them. */
export async function busy(form, work) {
  const controls = [...form.elements].filter((el) => !el.disabled);
  controls.forEach((el) => { el.disabled = true; });
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    controls.forEach((el) => { el.disabled = false; });
    form.removeAttribute("aria-busy");
  }
}

/** A labelled form field: label above, control, optional hint below. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl);
}
