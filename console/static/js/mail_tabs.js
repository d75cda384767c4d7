// The three e-mail pages (outgoing mail, templates, incoming mail) share one entry in the
// admin menu; these tabs move between them.

import { h } from "./dom.js";
import { t } from "./i18n.js";

const PAGES = [["#/admin/mail", "mailtabs.outgoing"], ["#/admin/mail/templates", "mailtabs.templates"],
  ["#/admin/mail/incoming", "mailtabs.incoming"]];

/** Return the tab strip of the e-mail pages, `current` (a hash) marked as the page shown. */
export function mailTabs(current) {
  return h("nav", { class: "tabs mail-tabs", "aria-label": t("mailtabs.label") },
    PAGES.map(([href, key]) => h("a", { class: "tab", href, "aria-current": href === current ? "page" : null }, t(key))));
}
