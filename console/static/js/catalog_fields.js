// The form-field editor of a request type: add, remove and reorder fields; label, type,
// required, and the options of a choice field. Field names are made from the labels.

import { field, h } from "./dom.js";
import { fieldError } from "./forms.js";
import { t } from "./i18n.js";

export const FIELD_TYPES = ["text", "textarea", "number", "date", "select", "checkbox"];
const MAX_FIELDS = 30;
const MAX_OPTIONS = 50;

/** Return a field name made from a label ("Cost centre" -> "cost_centre"), unique among `taken`. */
export function slug(label, taken) {
  const base = label.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").replace(/^[^a-z]+/, "").slice(0, 32) || "field";
  let name = base;
  for (let n = 2; taken.has(name); n += 1) name = `${base}_${n}`;
  return name;
}

/** The field editor; `editor.element` to place, `editor.read()` -> {fields, problems}. */
export function fieldEditor(initial) {
  const list = h("ol", { class: "form-fields" });
  const addBtn = h("button", { type: "button", class: "btn", onclick: () => {
    add({ label: "", type: "text", required: false, options: [] }).querySelector("input").focus();
    sync();
  } }, t("catalog.fields.add"));
  const empty = h("p", { class: "muted" }, t("catalog.fields.none"));

  function sync() {
    const rows = [...list.children];
    rows.forEach((row, i) => {
      replace(row.querySelector(".form-field-number"), t("catalog.fields.number", { n: i + 1 }));
      row.querySelector("[data-move=up]").disabled = i === 0;
      row.querySelector("[data-move=down]").disabled = i === rows.length - 1;
    });
    empty.hidden = rows.length > 0;
    addBtn.disabled = rows.length >= MAX_FIELDS;
  }

  function replace(el, text) {
    el.textContent = text;
  }

  function add(f) {
    const label = h("input", { name: "field_label", maxlength: 100, value: f.label, required: true });
    const type = h("select", { name: "field_type" },
      FIELD_TYPES.map((ft) => h("option", { value: ft, selected: ft === f.type }, t(`catalog.type.${ft}`))));
    const required = h("input", { type: "checkbox", name: "field_required", checked: f.required });
    const options = h("textarea", { name: "field_options", rows: 3, maxlength: 5100 }, f.options.join("\n"));
    const optionsField = field(t("catalog.fields.options"), options, t("catalog.fields.options_hint"));
    const showOptions = () => { optionsField.hidden = type.value !== "select"; };
    type.addEventListener("change", showOptions);
    showOptions();
    const title = h("legend", { class: "form-field-number" });
    const row = h("li", { class: "form-field", "data-name": f.name || "" },
      h("fieldset", {},
        title,
        h("div", { class: "row-2" },
          field(t("catalog.fields.label"), label),
          field(t("catalog.fields.type"), type)),
        h("div", { class: "field field-check" },
          h("label", {}, required, t("catalog.fields.required"))),
        optionsField,
        h("div", { class: "form-field-actions" },
          h("button", { type: "button", class: "btn btn-small", "data-move": "up",
            "aria-label": t("catalog.fields.move_up_named", { label: f.label || "" }),
            onclick: () => move(row, -1) }, t("catalog.move_up")),
          h("button", { type: "button", class: "btn btn-small", "data-move": "down",
            "aria-label": t("catalog.fields.move_down_named", { label: f.label || "" }),
            onclick: () => move(row, 1) }, t("catalog.move_down")),
          h("button", { type: "button", class: "btn btn-small btn-danger-ghost",
            onclick: () => { row.remove(); sync(); addBtn.focus(); } }, t("catalog.fields.remove")))));
    label.addEventListener("input", () => {
      row.querySelector("[data-move=up]").setAttribute("aria-label",
        t("catalog.fields.move_up_named", { label: label.value }));
      row.querySelector("[data-move=down]").setAttribute("aria-label",
        t("catalog.fields.move_down_named", { label: label.value }));
    });
    list.append(row);
    return row;
  }

  function move(row, step) {
    const target = step < 0 ? row.previousElementSibling : row.nextElementSibling;
    if (!target) return;
    if (step < 0) target.before(row);
    else target.after(row);
    sync();
    row.querySelector(`[data-move=${step < 0 ? "up" : "down"}]`).focus();
  }

  /** Return the fields as the API takes them, and [control, message] problems. */
  function read() {
    const rows = [...list.children];
    const taken = new Set(rows.map((r) => r.dataset.name).filter(Boolean));
    const labels = new Set();
    const problems = [];
    const fields = rows.map((row) => {
      const label = row.querySelector("[name=field_label]");
      const type = row.querySelector("[name=field_type]").value;
      const options = row.querySelector("[name=field_options]");
      const text = label.value.trim();
      const folded = text.toLocaleLowerCase();
      if (!text) problems.push([label, t("catalog.error.field_label_blank")]);
      else if (labels.has(folded)) problems.push([label, t("catalog.error.field_label_twice")]);
      labels.add(folded);
      const opts = type === "select" ? options.value.split("\n").map((o) => o.trim()).filter(Boolean) : [];
      if (type === "select") {
        if (!opts.length) problems.push([options, t("catalog.error.options_missing")]);
        else if (new Set(opts).size !== opts.length) problems.push([options, t("catalog.error.options_twice")]);
        else if (opts.length > MAX_OPTIONS) problems.push([options, t("catalog.error.options_many", { n: MAX_OPTIONS })]);
        else if (opts.some((o) => o.length > 100)) problems.push([options, t("catalog.error.option_long")]);
      }
      let name = row.dataset.name;
      if (!name) {
        name = slug(text, taken);
        taken.add(name);
      }
      return { name, label: text, type, required: row.querySelector("[name=field_required]").checked,
        options: opts };
    });
    return { fields, problems };
  }

  for (const f of initial) add(f);
  sync();
  return {
    element: h("fieldset", { class: "form-fields-box" },
      h("legend", {}, t("catalog.fields.title")), empty, list, h("div", {}, addBtn)),
    read,
    /** Put a server-side message on the editor as a whole. */
    fail: (message) => fieldError(addBtn, message),
  };
}
