// The sidebar as a drawer on narrow screens (phones, small tablets): the menu button in
// the top bar opens it over the page; Escape, a tap outside, following a link, moving the
// focus out of it or a route change close it. On wide screens the sidebar is always shown
// and the button is hidden (app.css), so nothing here has any effect there.

import { h } from "./dom.js";

/** Wire `button` (aria-controls) to open and close `panel` as a drawer. */
export class Drawer {
  constructor(panel, button) {
    this.panel = panel;
    this.button = button;
    this.isOpen = false;
    this.backdrop = h("div", { class: "nav-backdrop", hidden: true, "aria-hidden": "true",
      onclick: () => this.close({ restoreFocus: false }) });
    panel.after(this.backdrop);
    button.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    panel.addEventListener("click", (event) => {
      if (!this.isOpen || !event.target.closest("a[href]")) return;
      this.close({ restoreFocus: false });
      document.getElementById("main")?.focus(); // the link is hidden now: go on at the page

    });
    this.onKey = (event) => {
      if (event.key === "Escape" && this.isOpen) {
        event.preventDefault();
        event.stopPropagation(); // the page's own Escape (a dialog, the queue) is not meant
        this.close();
      }
    };
    const leave = (event) => {
      const to = event.relatedTarget;
      // Focus moving on to the button is a click on it: the click toggles.
      if (this.isOpen && to && to !== button && !panel.contains(to)) this.close({ restoreFocus: false });
    };
    panel.addEventListener("focusout", leave);
    button.addEventListener("focusout", leave);
    this.wide = window.matchMedia("(min-width: 901px)");
    this.wide.addEventListener("change", () => {
      if (this.wide.matches) this.close({ restoreFocus: false });
    });
  }

  /** Show the drawer and move the focus to its current (or first) link. */
  open() {
    if (this.isOpen) return;
    this.isOpen = true;
    this.panel.closest(".shell")?.classList.add("nav-open");
    this.button.setAttribute("aria-expanded", "true");
    this.backdrop.hidden = false;
    document.addEventListener("keydown", this.onKey, true);
    const target = this.panel.querySelector("[aria-current='page']") || this.panel.querySelector("a[href]");
    if (target) target.focus();
  }

  /** Hide the drawer; give the focus back to the button when it was inside. */
  close({ restoreFocus = true } = {}) {
    if (!this.isOpen) return;
    const hadFocus = this.panel.contains(document.activeElement);
    this.isOpen = false;
    this.panel.closest(".shell")?.classList.remove("nav-open");
    this.button.setAttribute("aria-expanded", "false");
    this.backdrop.hidden = true;
    document.removeEventListener("keydown", this.onKey, true);
    if (restoreFocus && hadFocus) this.button.focus();
  }
}
