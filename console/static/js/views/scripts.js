// Scripts: the library of reviewed scripts. Staff list them, write new ones and edit them
// (every edit is a new version, with a parameters builder); admins approve a version that
// someone else wrote. Only approved versions run (from a ticket's Toolbox panel).

import { api } from "../api.js";
import { field, h, replace } from "../dom.js";
import { dateTime } from "../format.js";
import { onSubmit as handleSubmit } from "../forms.js";
import { labels, t, tn } from "../i18n.js";
import { icon } from "../icons.js";
import { guarded, showSuccess } from "../notice.js";
import { emptyState, iconButton, openModal } from "../ui.js";

const LANGUAGES = labels("scripts.language", ["bash", "python"]);
const TYPES = labels("scripts.type", ["text", "integer", "boolean"]);
const NAME_PATTERN = "[a-z][a-z0-9_]{0,31}";

function options(map, selected) {
  return Object.entries(map).map(([value, label]) => h("option", { value, selected: value === selected }, label));
}

/** One row of the parameters builder. */
function paramRow(param, onRemove) {
  const type = h("select", { name: "p_type", "aria-label": t("scripts.param_type") }, options(TYPES, param.type || "text"));
  const dflt = param.default;
  const row = h("fieldset", { class: "param-row" },
    h("legend", { class: "sr-only" }, t("scripts.parameter")),
    field(t("scripts.param_name"), h("input", { name: "p_name", required: true, pattern: NAME_PATTERN, maxlength: 32,
      value: param.name || "", autocapitalize: "none", spellcheck: "false" })),
    field(t("scripts.param_label"), h("input", { name: "p_label", required: true, maxlength: 100, value: param.label || "" })),
    field(t("scripts.param_type"), type),
    field(t("scripts.param_default"), h("input", { name: "p_default", maxlength: 4096,
      value: dflt === null || dflt === undefined ? "" : String(dflt) })),
    h("div", { class: "field field-check" }, h("label", {},
      h("input", { type: "checkbox", name: "p_required", checked: Boolean(param.required) }), t("scripts.param_required"))),
    h("button", { type: "button", class: "btn btn-small", "aria-label": t("scripts.remove_param"),
      onclick: () => { row.remove(); onRemove(); } }, icon("trash")));
  return row;
}

/** Read the builder's rows as declared parameters (defaults typed as declared). */
function readParams(list) {
  return [...list.querySelectorAll(".param-row")].map((row) => {
    const get = (name) => row.querySelector(`[name=p_${name}]`);
    const type = get("type").value;
    const raw = get("default").value;
    let dflt = null;
    if (raw !== "") {
      if (type === "integer") dflt = Number.parseInt(raw, 10);
      else if (type === "boolean") dflt = ["true", "1", "yes", "ya"].includes(raw.trim().toLowerCase());
      else dflt = raw;
    }
    return { name: get("name").value.trim(), label: get("label").value.trim(), type,
      required: get("required").checked, default: Number.isNaN(dflt) ? raw : dflt };
  });
}

function scriptForm({ script = null, onSubmit }) {
  const newest = script ? script.versions[0] : null;
  const list = h("div", { class: "stack param-list" });
  const none = h("p", { class: "muted small" }, t("scripts.no_params"));
  const sync = () => { none.hidden = list.children.length > 0; };
  for (const p of newest ? newest.parameters : []) list.append(paramRow(p, sync));
  sync();
  const form = h("form", { class: "stack", "aria-label": script ? t("scripts.edit") : t("scripts.new") },
    h("div", { class: "row-2" },
      field(t("scripts.name"), h("input", { name: "name", required: true, maxlength: 100, value: script ? script.name : "" })),
      field(t("scripts.language_label"), h("select", { name: "language" }, options(LANGUAGES, newest ? newest.language : "bash")))),
    field(t("scripts.description"), h("textarea", { name: "description", rows: 2, maxlength: 2000 },
      newest ? newest.description : "")),
    field(t("scripts.body"), h("textarea", { name: "body", required: true, rows: 10, class: "mono script-body",
      spellcheck: "false", autocapitalize: "none" }, newest ? newest.body : ""), t("scripts.body_hint")),
    field(t("scripts.timeout"), h("input", { name: "timeout_seconds", type: "number", min: 1, max: 86400, required: true,
      value: String(newest ? newest.timeout_seconds : 300) })),
    h("div", { class: "stack" }, h("strong", {}, t("scripts.parameters")), none, list,
      h("button", { type: "button", class: "btn btn-small", "data-action": "add-param",
        onclick: () => { list.append(paramRow({}, sync)); sync(); list.lastElementChild.querySelector("input").focus(); } },
      icon("plus"), t("scripts.add_param"))),
    h("p", { class: "muted small" }, t("scripts.review_hint")),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => form.closest("dialog")?.close() }, t("common.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, script ? t("scripts.save_version") : t("scripts.create"))));
  handleSubmit(form, () => {
    const e = form.elements;
    return onSubmit({ name: e.name.value.trim(), language: e.language.value, description: e.description.value,
      body: e.body.value, timeout_seconds: Number(e.timeout_seconds.value), parameters: readParams(list) });
  });
  return form;
}

function stateBadge(s) {
  if (s.pending_review) return h("span", { class: "badge badge-pending" }, t("scripts.pending"));
  return h("span", { class: "badge badge-approved" }, t("scripts.approved"));
}

/** Fill the Scripts view. */
export function scriptsView(root, { user: me }) {
  const tbody = h("tbody");
  const table = h("table", { class: "table", "aria-label": t("scripts.table") },
    h("thead", {}, h("tr", {}, [t("scripts.name"), t("scripts.language_label"), t("scripts.versions"),
      t("scripts.review"), t("scripts.updated"), ""].map((c) => h("th", { scope: "col" }, c)))), tbody);
  const empty = h("div", { hidden: true }, emptyState("code", t("scripts.none"), t("scripts.none_hint")));
  const count = h("span", { class: "muted", "aria-live": "polite" });

  async function reload() {
    const data = await guarded(() => api.get("/api/v1/scripts"));
    if (!data) return;
    replace(tbody, data.items.map((s) => h("tr", { "data-script": s.name },
      h("td", {}, h("span", { class: "strong" }, s.name), s.description ? h("div", { class: "muted small" }, s.description) : null),
      h("td", {}, LANGUAGES[s.language] || s.language),
      h("td", {}, t("scripts.version_n", { n: s.latest_version }),
        s.approved_version && s.approved_version !== s.latest_version
          ? h("div", { class: "muted small" }, t("scripts.runs_version", { n: s.approved_version })) : null),
      h("td", {}, stateBadge(s)),
      h("td", { class: "muted" }, dateTime(s.updated_at)),
      h("td", { class: "cell-actions" }, h("button", { type: "button", class: "btn btn-small",
        "aria-label": t("scripts.open_named", { name: s.name }), onclick: () => show(s.id) }, t("scripts.open"))))));
    replace(count, tn("scripts.count", data.items.length));
    empty.hidden = data.items.length > 0;
    table.hidden = data.items.length === 0;
  }

  function create() {
    const dialog = openModal(t("scripts.new"), scriptForm({ onSubmit: async (body) => {
      const made = await api.post("/api/v1/scripts", body);
      dialog.close();
      showSuccess(t("scripts.created", { name: made.name }));
      await reload();
    } }));
    dialog.classList.add("modal-wide");
  }

  function edit(script) {
    const dialog = openModal(t("scripts.edit_named", { name: script.name }), scriptForm({ script, onSubmit: async (body) => {
      const saved = await api.put(`/api/v1/scripts/${script.id}`, body);
      dialog.close();
      showSuccess(t("scripts.saved", { name: saved.name, n: saved.latest_version }));
      await reload();
      show(saved.id);
    } }));
    dialog.classList.add("modal-wide");
  }

  async function show(id) {
    const script = await guarded(() => api.get(`/api/v1/scripts/${id}`));
    if (!script) return;
    const body = h("div", { class: "stack" });
    const dialog = openModal(script.name, body);
    dialog.classList.add("modal-wide");
    const render = (s) => replace(body,
      h("div", { class: "form-actions" }, iconButton("pencil", t("scripts.edit"), { onclick: () => { dialog.close(); edit(s); } })),
      h("ol", { class: "script-versions", reversed: true }, s.versions.map((v) => {
        const own = v.author && v.author.id === me.id;
        const approve = me.role === "admin" && !v.approved
          ? h("button", { type: "button", class: "btn btn-small btn-primary", "data-approve": v.version, disabled: own || null,
            title: own ? t("scripts.own_version") : null, onclick: () => guarded(async () => {
              render(await api.post(`/api/v1/scripts/${s.id}/versions/${v.version}/approve`));
              showSuccess(t("scripts.approved_n", { n: v.version }));
              reload();
            }) }, icon("check"), t("scripts.approve")) : null;
        return h("li", { class: "script-version", "data-version": v.version },
          h("div", { class: "script-version-head" },
            h("strong", {}, t("scripts.version_n", { n: v.version })), " ",
            v.approved ? h("span", { class: "badge badge-approved" }, t("scripts.approved_by", { name: v.approved_by ? v.approved_by.display_name : "?" }))
              : h("span", { class: "badge badge-pending" }, t("scripts.pending")),
            h("span", { class: "muted small" }, ` ${t("scripts.written_by", { name: v.author ? v.author.display_name : "?", when: dateTime(v.created_at) })}`),
            approve, own && !v.approved && me.role === "admin" ? h("span", { class: "muted small" }, ` ${t("scripts.own_version")}`) : null),
          v.description ? h("p", { class: "small" }, v.description) : null,
          h("p", { class: "muted small" }, LANGUAGES[v.language] || v.language, " \u00b7 ",
            t("scripts.timeout_n", { n: v.timeout_seconds }), " \u00b7 ",
            v.parameters.length ? v.parameters.map((p) => `${p.label} (PARAM_${p.name.toUpperCase()})`).join(", ") : t("scripts.no_params")),
          h("pre", { class: "script-code" }, v.body));
      })));
    render(script);
  }

  root.append(
    h("div", { class: "toolbar" }, h("p", { class: "muted small" }, t("scripts.intro")),
      h("div", { class: "toolbar-end" }, iconButton("plus", t("scripts.new"), { class: "btn btn-primary", onclick: create }))),
    h("section", { class: "panel" }, h("div", { class: "table-wrap" }, table, empty),
      h("footer", { class: "panel-foot" }, count)));
  reload();
}
