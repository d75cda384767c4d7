// The requester portal: "My tickets", which arrive with the tickets module.

import { h } from "../dom.js";
import { emptyState, panel } from "../ui.js";

/** Fill the Portal view. */
export function portalView(root, { user }) {
  root.append(
    h("p", { class: "lead" }, `Hello, ${user.display_name}. Here you follow your requests to IT.`),
    panel("My tickets", emptyState("ticket", "No tickets to show",
      "Tickets arrive with the tickets module. Once it is installed, you can raise a " +
      "ticket here and follow its answers."), { cls: "panel-queue" }));
}
