// The Desk (technicians and admins): the ticket queue, which arrives with the tickets module.

import { h } from "../dom.js";
import { emptyState, panel } from "../ui.js";

/** Fill the Desk view. */
export function deskView(root, { user }) {
  root.append(
    h("p", { class: "lead" }, `Welcome, ${user.display_name}. This is your queue.`),
    panel("Queue", emptyState("inbox", "No tickets here yet",
      "Tickets arrive with the tickets module. Once it is installed, new, assigned and " +
      "pending tickets for you and your groups are listed here."), { cls: "panel-queue" }));
}
