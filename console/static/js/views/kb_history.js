// An article's version history (staff): every saved version, a diff between any two, and
// restoring an old version (which saves it as the newest version; nothing is lost).

import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { dateTime } from "../format.js";
import { t } from "../i18n.js";
import { icon } from "../icons.js";
import { guarded, showSuccess } from "../notice.js";
import { confirmDialog, emptyState, panel } from "../ui.js";

/** Return a <pre> of a unified diff, one line per element, coloured by kind. */
function diffBlock(text, from, to) {
  const lines = text ? text.split("\n") : [];
  // The first two lines name the versions (in the server's English): named here instead.
  if (lines[0]?.startsWith("--- ") && lines[1]?.startsWith("+++ ")) {
    lines.splice(0, 2, `--- ${t("kba.version", { n: from })}`, `+++ ${t("kba.version", { n: to })}`);
  }
  return h("pre", { class: "kb-diff", "aria-label": t("kbh.diff") }, lines.length ? lines.map((line, i) => {
    let cls = "diff-ctx";
    if (i < 2 && (line.startsWith("+++ ") || line.startsWith("--- "))) cls = "diff-file";
    else if (line.startsWith("@@")) cls = "diff-hunk";
    else if (line.startsWith("+")) cls = "diff-add";
    else if (line.startsWith("-")) cls = "diff-del";
    return h("span", { class: cls }, `${line}\n`);
  }) : h("span", { class: "muted" }, t("kbh.same")));
}

/** Fill the history page; `params[0]` is the article id. */
export function kbHistoryView(root, { params, setTitle }) {
  const id = Number(params[0]);
  let versions = [];
  let from = null;
  let to = null;
  const list = h("ol", { class: "kb-versions", "aria-label": t("kbh.versions") });
  const diff = h("div", { class: "kb-diff-host" });

  function renderList() {
    replace(list, versions.map((v) => h("li", { class: "kb-version", "data-number": v.number },
      h("label", { class: "inline", title: t("kbh.compare_from") },
        h("input", { type: "radio", name: "from", value: v.number, checked: v.number === from,
          onchange: () => { from = v.number; showDiff(); } }), t("kbh.from")),
      h("label", { class: "inline", title: t("kbh.compare_to") },
        h("input", { type: "radio", name: "to", value: v.number, checked: v.number === to,
          onchange: () => { to = v.number; showDiff(); } }), t("kbh.to")),
      h("div", { class: "kb-version-text" },
        h("strong", {}, t("kbh.version", { n: v.number })), " \u00b7 ", v.title,
        h("p", { class: "small muted" }, dateTime(v.created_at), v.editor ? ` \u00b7 ${v.editor.display_name}` : "",
          v.restored_from ? ` \u00b7 ${t("kbh.restored_from", { n: v.restored_from })}` : "")),
      v.number !== versions[0].number ? h("button", { type: "button", class: "btn btn-small",
        onclick: () => restore(v.number) }, icon("reopen"), t("kbh.restore"))
        : h("span", { class: "badge" }, t("kbh.current")))));
  }

  async function showDiff() {
    if (from === null || to === null) return;
    const data = await guarded(() => api.get(`/api/v1/kb/articles/${id}/diff`, { from, to }));
    if (data && diff.isConnected) {
      replace(diff, h("p", { class: "small muted" }, t("kbh.compare", { from: data.from, to: data.to })),
        diffBlock(data.diff, data.from, data.to));
    }
  }

  async function restore(number) {
    if (!await confirmDialog(t("kbh.restore_title"), t("kbh.restore_text", { n: number }),
      { confirmLabel: t("kbh.restore") })) return;
    const article = await guarded(() => api.post(`/api/v1/kb/articles/${id}/versions/${number}/restore`));
    if (!article) return;
    showSuccess(t("kbh.restored", { n: number, version: article.version }));
    await load();
  }

  async function load() {
    versions = (await api.get(`/api/v1/kb/articles/${id}/versions`)).items;
    to = versions[0].number;
    from = versions.length > 1 ? versions[1].number : to;
    if (!root.isConnected) return;
    renderList();
    await showDiff();
  }

  setTitle(t("route.kb_history"));
  root.append(h("div", { class: "ticket-nav" },
    h("a", { class: "back-link", href: `#/kb/articles/${id}` }, icon("back"), t("route.kb_article"))),
  h("div", { class: "kb-history" }, panel(t("kbh.versions"), list), panel(t("device.tab.changes"), diff)));
  (async () => {
    const ok = await guarded(async () => { await load(); return true; });
    if (!ok && root.isConnected) {
      replace(list, h("li", {}, emptyState("history", t("kbh.none"), t("kbe.may_not_exist"))));
    }
  })();
}
