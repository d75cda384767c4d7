// The logged-in frame: sidebar navigation by role, header with the user, notice area.

import { brandMark, productName } from "./branding.js";
import { h, replace } from "./dom.js";
import { initials } from "./format.js";
import { Drawer } from "./drawer.js";
import { icon } from "./icons.js";
import { clearNotice, setNoticeHost } from "./notice.js";
import { t } from "./i18n.js";
import { isStaff, roleLabel } from "./session.js";

/** Return the navigation sections a user may see: [{title, items: [{id, href, label, icon}]}]. */
export function navFor(user) {
  const sections = [];
  if (isStaff(user)) {
    sections.push({ title: t("nav.section.desk"), items: [
      { id: "desk", href: "#/desk", label: t("nav.desk"), icon: "inbox" },
      { id: "devices", href: "#/devices", label: t("nav.devices"), icon: "monitor" },
      { id: "kb", href: "#/kb", label: t("nav.kb"), icon: "book" },
      // The portal view of the tickets they raised themselves (the router's "portal").
      { id: "portal", href: "#/portal", label: t("nav.my_requests"), icon: "ticket" },
      { id: "canned", href: "#/desk/canned", label: t("nav.canned"), icon: "send" },
      { id: "problems", href: "#/desk/problems", label: t("nav.problems"), icon: "search" },
      { id: "satisfaction", href: "#/desk/satisfaction", label: t("nav.satisfaction"), icon: "check" },
      { id: "scripts", href: "#/desk/scripts", label: t("nav.scripts"), icon: "code" },
      { id: "reports", href: "#/reports", label: t("nav.reports"), icon: "history" },
    ] });
  } else {
    sections.push({ title: t("nav.section.support"), items: [
      { id: "portal", href: "#/portal", label: t("nav.portal"), icon: "ticket" },
      { id: "kb", href: "#/kb", label: t("nav.help_articles"), icon: "book" },
    ] });
  }
  if (user.role === "admin") {
    sections.push({ title: t("nav.section.admin"), items: [
      { id: "users", href: "#/admin/users", label: t("nav.users"), icon: "users" },
      { id: "groups", href: "#/admin/groups", label: t("nav.groups"), icon: "group" },
      { id: "directories", href: "#/admin/directories", label: t("nav.directories"), icon: "users" },
      { id: "sso", href: "#/admin/sso", label: t("nav.sso"), icon: "shield" },
      { id: "enrollment", href: "#/admin/enrollment", label: t("nav.enrollment"), icon: "enroll" },
      { id: "health", href: "#/admin/health", label: t("nav.health"), icon: "shield" },
      { id: "sla", href: "#/admin/sla", label: t("nav.sla"), icon: "history" },
      { id: "catalog", href: "#/admin/catalog", label: t("nav.catalog"), icon: "package" },
      { id: "categories", href: "#/admin/categories", label: t("nav.categories"), icon: "network" },
      { id: "mail", href: "#/admin/mail", label: t("nav.mail"), icon: "send" },
      { id: "branding", href: "#/admin/branding", label: t("nav.branding"), icon: "pencil" },
    ] });
  }
  sections.push({ title: t("nav.section.you"), items: [
    { id: "account", href: "#/account", label: t("nav.account"), icon: "user" },
  ] });
  return sections;
}

/** The frame around every logged-in view; build once per login. */
export class Shell {
  constructor(user, { onLogout }) {
    this.user = user;
    this.links = new Map();
    this.title = h("h1", { class: "page-title", id: "page-title" });
    this.notice = h("div", { class: "notice-host", hidden: true, "aria-live": "polite" });
    this.content = h("div", { class: "content" });
    this.userName = h("span", { class: "user-name" });
    this.avatar = h("span", { class: "avatar", "aria-hidden": "true" });
    this.main = h("main", { class: "main", id: "main", tabindex: "-1" }, this.notice, this.content);
    // On a narrow screen the sidebar is a drawer that this button opens (drawer.js).
    this.menuButton = h("button", { type: "button", class: "btn btn-ghost nav-toggle",
      "aria-label": t("shell.menu"), "aria-controls": "sidebar", "aria-expanded": "false" }, icon("menu"));
    const aside = this.sidebar();
    this.root = h("div", { class: "shell" },
      h("a", { class: "skip-link", href: "#main", onclick: (event) => {
        event.preventDefault(); // the hash is the router's: focus the content instead
        this.main.focus();
      } }, t("shell.skip_to_content")),
      aside,
      h("div", { class: "workspace" },
        h("header", { class: "topbar" },
          this.menuButton,
          this.title,
          h("div", { class: "user-box" },
            this.avatar,
            h("div", { class: "user-meta" },
              this.userName,
              h("span", { class: "user-role" }, roleLabel(user.role))),
            h("button", { type: "button", class: "btn btn-ghost btn-logout", onclick: onLogout },
              icon("logout"), h("span", { class: "btn-label" }, t("shell.logout"))))),
        this.main));
    this.drawer = new Drawer(aside, this.menuButton);
    this.setUser(user);
  }

  sidebar() {
    const nav = h("nav", { class: "nav", "aria-label": t("nav.main") });
    for (const section of navFor(this.user)) {
      const list = h("ul", { class: "nav-list" });
      for (const item of section.items) {
        const link = h("a", { href: item.href, class: "nav-link", "data-nav": item.id },
          icon(item.icon), h("span", {}, item.label));
        this.links.set(item.id, link);
        list.append(h("li", {}, link));
      }
      nav.append(h("div", { class: "nav-section" },
        h("h2", { class: "nav-title" }, section.title), list));
    }
    return h("aside", { class: "sidebar", id: "sidebar" },
      h("a", { class: "brand", href: isStaff(this.user) ? "#/desk" : "#/portal" },
        brandMark(28)),
      nav,
      h("p", { class: "sidebar-foot" }, t("shell.foot")));
  }

  /** Show the user's current name (it may change on the Account page). */
  setUser(user) {
    this.user = user;
    replace(this.userName, user.display_name);
    replace(this.avatar, initials(user.display_name));
  }

  /** Set the page heading and the window title (a view may name what it shows). */
  setTitle(title) {
    replace(this.title, title);
    document.title = `${title} \u00b7 ${productName()}`;
  }

  /** Mark the active navigation entry and set the page title; return a fresh content node. */
  enter(navId, title) {
    this.drawer.close({ restoreFocus: false }); // a route change closes the phone drawer
    for (const [id, link] of this.links) {
      if (id === navId) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    this.setTitle(title);
    setNoticeHost(this.notice);
    clearNotice(); // a notice belongs to the page it was shown on
    const fresh = h("div", { class: "view" });
    replace(this.content, fresh);
    return fresh;
  }
}
