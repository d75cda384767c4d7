// Views for a route the user may not open, and for an unknown route.

import { h } from "../dom.js";
import { emptyState } from "../ui.js";

/** Fill the "not allowed" view. */
export function notAllowedView(root, { home }) {
  root.append(h("div", { class: "status-page", "data-view": "not-allowed" },
    emptyState("shield", "You have no access to this page",
      "Your role does not allow this page. Ask an administrator if you need it.",
      h("a", { class: "btn", href: home }, "Go to your start page"))));
}

/** Fill the "not found" view. */
export function notFoundView(root, { home }) {
  root.append(h("div", { class: "status-page", "data-view": "not-found" },
    emptyState("search", "There is no such page", "Check the address, or go back to your start page.",
      h("a", { class: "btn", href: home }, "Go to your start page"))));
}
