// The devices bound to a person: "My devices" in the portal (name, system, last seen and
// "Raise a ticket about it") and, on the desk's ticket page, the requester's devices.

import { api } from "./api.js";
import { osLabel, stateBadge } from "./device_labels.js";
import { h, replace } from "./dom.js";
import { t, tn } from "./i18n.js";
import { icon } from "./icons.js";
import { guarded } from "./notice.js";
import { panel } from "./ui.js";

function devicesOf(userId) {
  return api.get(`/api/v1/users/${userId}/devices`);
}

/** The portal's "My devices" panel of `user`: return its element (it loads itself). */
export function myDevicesPanel(user) {
  const list = h("ul", { class: "device-list", "aria-label": t("mydevices.title") },
    h("li", { class: "muted" }, t("common.loading")));
  const el = panel(t("mydevices.title"), list, { cls: "panel-my-devices" });
  (async () => {
    const data = await guarded(() => devicesOf(user.id));
    if (!data) return;
    if (!data.items.length) {
      replace(list, h("li", { class: "muted" }, t("mydevices.none")));
      return;
    }
    replace(list, data.items.map((d) => h("li", { class: "device-card", "data-device": d.id },
      h("span", { class: "device-card-text" },
        h("strong", {}, d.hostname),
        h("span", { class: "small muted" }, osLabel(d)),
        h("span", { class: "small" }, stateBadge(d))),
      h("a", { class: "btn btn-small", href: `#/portal/new/${d.id}`,
        "aria-label": t("mydevices.raise_about", { name: d.hostname }) }, icon("plus"), t("mydevices.raise")))));
  })();
  return el;
}

/**
 * The ticket page's panel of the requester's devices: {el, show(requesterId)}; `show`
 * loads them when the requester changes.
 */
export function requesterDevicesPanel() {
  const body = h("div", {}, h("p", { class: "muted" }, t("common.loading")));
  const el = panel(t("mydevices.requester_title"), body, { cls: "panel-requester-devices" });
  let shown = null;
  async function show(requesterId) {
    if (requesterId === shown) return;
    shown = requesterId;
    const data = await guarded(() => devicesOf(requesterId));
    if (!data || shown !== requesterId) return;
    replace(body, data.items.length
      ? h("ul", { class: "device-list", "aria-label": t("mydevices.requester_title") },
        data.items.map((d) => h("li", { class: "device-card", "data-device": d.id },
          h("span", { class: "device-card-text" },
            h("a", { href: `#/devices/${d.id}` }, d.hostname),
            h("span", { class: "small muted" }, osLabel(d)),
            h("span", { class: "small" }, stateBadge(d), " ",
              h("span", { class: "muted" }, tn("mydevices.logins", d.logins.length, { logins: d.logins.join(", ") })))))))
      : h("p", { class: "muted" }, t("mydevices.requester_none")));
  }
  return { el, show };
}
