// Views for a route the user may not open, and for an unknown route.

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { emptyState } from "../ui.js";

/** Fill the "not allowed" view. */
export function notAllowedView(root, { home }) {
  root.append(h("div", { class: "status-page", "data-view": "not-allowed" },
    emptyState("shield", t("status.not_allowed.title"), t("status.not_allowed.text"),
      h("a", { class: "btn", href: home }, t("status.home")))));
}

/** Fill the "not found" view. */
export function notFoundView(root, { home }) {
  root.append(h("div", { class: "status-page", "data-view": "not-found" },
    emptyState("search", t("status.not_found.title"), t("status.not_found.text"),
      h("a", { class: "btn", href: home }, t("status.home")))));
}
