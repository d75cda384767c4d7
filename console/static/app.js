// Boot and hash router of the Deskmate console.

import { onSessionLost } from "./js/api.js";
import { loadBranding } from "./js/branding.js";
import { availableLanguages, browserLanguage, language, storedLanguage, t, useLanguage } from "./js/i18n.js";
import { replace } from "./js/dom.js";
import { startLive, stopLive } from "./js/live.js";
import { showError } from "./js/notice.js";
import { currentUser, forget, homeRoute, logout, mustEnrolSecondFactor, restore, secondFactorEnrolled,
  updateUser } from "./js/session.js";
import { Shell } from "./js/shell.js";
import { accountView, confirmEmailView } from "./js/views/account.js";
import { cannedView } from "./js/views/canned.js";
import { catalogAdminView } from "./js/views/catalog_admin.js";
import { categoriesAdminView } from "./js/views/categories_admin.js";
import { deskView } from "./js/views/desk.js";
import { reportsView } from "./js/views/reports.js";
import { deviceView } from "./js/views/device.js";
import { devicesView } from "./js/views/devices.js";
import { directoriesView } from "./js/views/directories.js";
import { ssoView } from "./js/views/sso.js";
import { enrollmentView } from "./js/views/enrollment.js";
import { healthChecksView } from "./js/views/health_checks.js";
import { groupsView } from "./js/views/groups.js";
import { slaAdminView } from "./js/views/sla_admin.js";
import { mailSettingsView } from "./js/views/mail_settings.js";
import { mailInView } from "./js/views/mail_in.js";
import { mailTemplatesView } from "./js/views/mail_templates.js";
import { brandingView } from "./js/views/branding_admin.js";
import { kbView } from "./js/views/kb.js";
import { kbArticleView } from "./js/views/kb_article.js";
import { kbEditView } from "./js/views/kb_edit.js";
import { kbHistoryView } from "./js/views/kb_history.js";
import { kbReadingView } from "./js/views/kb_reading.js";
import { loginPage } from "./js/views/login.js";
import { forgotPasswordPage, resetPasswordPage } from "./js/views/password_reset.js";
import { enrolPage } from "./js/views/second_factor.js";
import { surveyPage } from "./js/views/survey.js";
import { portalView } from "./js/views/portal.js";
import { problemsView, satisfactionView } from "./js/views/problems.js";
import { recordingView } from "./js/views/recording.js";
import { remoteView } from "./js/views/remote.js";
import { scriptsView } from "./js/views/scripts.js";
import { notAllowedView, notFoundView } from "./js/views/status.js";
import { ticketView } from "./js/views/ticket.js";
import { usersView } from "./js/views/users.js";

const ANYONE = ["admin", "technician", "requester"];
const STAFF = ["admin", "technician"];
const ADMIN = ["admin"];

// Each route: a path pattern, who may open it, its nav entry, title (a catalogue key) and view.
const ROUTES = [
  { path: /^\/desk$/, roles: STAFF, nav: "desk", titleKey: "route.desk", view: deskView },
  { path: /^\/desk\/tickets\/(\d+)$/, roles: STAFF, nav: "desk", titleKey: "route.ticket", view: ticketView },
  { path: /^\/desk\/remote\/(\d+)$/, roles: STAFF, nav: "desk", titleKey: "route.remote", view: remoteView },
  { path: /^\/desk\/remote\/(\d+)\/recording$/, roles: STAFF, nav: "desk", titleKey: "route.recording",
    view: recordingView },
  { path: /^\/devices$/, roles: STAFF, nav: "devices", titleKey: "route.devices", view: devicesView },
  { path: /^\/devices\/(\d+)(?:\/(hardware|network|software|changes))?$/, roles: STAFF, nav: "devices",
    titleKey: "route.device", view: deviceView },
  { path: /^\/portal(?:\/(new)(?:\/(\d+))?|\/tickets\/(\d+))?$/, roles: ANYONE, nav: "portal", titleKey: "route.portal",
    view: portalView },
  { path: /^\/kb$/, roles: ANYONE, nav: "kb", titleKey: "route.kb", view: kbView },
  { path: /^\/kb\/articles\/(\d+)$/, roles: ANYONE, nav: "kb", titleKey: "route.kb_article", view: kbArticleView },
  { path: /^\/kb\/(?:(new)|articles\/(\d+)\/edit)$/, roles: STAFF, nav: "kb", titleKey: "route.kb_edit",
    view: (root, ctx) => kbEditView(root, { ...ctx, params: [ctx.params[0] || ctx.params[1]] }) },
  { path: /^\/kb\/articles\/(\d+)\/history$/, roles: STAFF, nav: "kb", titleKey: "route.kb_history", view: kbHistoryView },
  { path: /^\/kb\/reading$/, roles: ANYONE, nav: "kb", titleKey: "route.kb_reading", view: kbReadingView },
  { path: /^\/admin\/users$/, roles: ADMIN, nav: "users", titleKey: "route.users", view: usersView },
  { path: /^\/admin\/groups(?:\/(\d+))?$/, roles: ADMIN, nav: "groups", titleKey: "route.groups", view: groupsView },
  { path: /^\/admin\/sla$/, roles: ADMIN, nav: "sla", titleKey: "route.sla", view: slaAdminView },
  { path: /^\/admin\/catalog$/, roles: ADMIN, nav: "catalog", titleKey: "route.catalog", view: catalogAdminView },
  { path: /^\/admin\/categories$/, roles: ADMIN, nav: "categories", titleKey: "route.categories",
    view: categoriesAdminView },
  { path: /^\/desk\/canned$/, roles: STAFF, nav: "canned", titleKey: "route.canned", view: cannedView },
  { path: /^\/desk\/problems$/, roles: STAFF, nav: "problems", titleKey: "route.problems", view: problemsView },
  { path: /^\/desk\/satisfaction$/, roles: STAFF, nav: "satisfaction", titleKey: "route.satisfaction",
    view: satisfactionView },
  { path: /^\/desk\/scripts$/, roles: STAFF, nav: "scripts", titleKey: "route.scripts", view: scriptsView },
  { path: /^\/reports$/, roles: STAFF, nav: "reports", titleKey: "route.reports", view: reportsView },
  { path: /^\/admin\/mail$/, roles: ADMIN, nav: "mail", titleKey: "route.mail", view: mailSettingsView },
  { path: /^\/admin\/mail\/templates$/, roles: ADMIN, nav: "mail", titleKey: "route.mail_templates",
    view: mailTemplatesView },
  { path: /^\/admin\/mail\/incoming$/, roles: ADMIN, nav: "mail", titleKey: "route.mail_in", view: mailInView },
  { path: /^\/admin\/branding$/, roles: ADMIN, nav: "branding", titleKey: "route.branding", view: brandingView },
  { path: /^\/admin\/enrollment$/, roles: ADMIN, nav: "enrollment", titleKey: "route.enrollment",
    view: enrollmentView },
  { path: /^\/admin\/directories$/, roles: ADMIN, nav: "directories", titleKey: "route.directories",
    view: directoriesView },
  { path: /^\/admin\/sso$/, roles: ADMIN, nav: "sso", titleKey: "route.sso", view: ssoView },
  { path: /^\/admin\/health$/, roles: ADMIN, nav: "health", titleKey: "route.health", view: healthChecksView },
  { path: /^\/account$/, roles: ANYONE, nav: "account", titleKey: "route.account", view: accountView },
  { path: /^\/account\/confirm-email\/([A-Za-z0-9_-]{16,100})$/, roles: ANYONE, nav: "account",
    titleKey: "route.account", view: confirmEmailView },
];

const app = document.getElementById("app");
let shell = null;
let pending = ""; // where to go after logging in
let loginReason = "";

function currentPath() {
  return location.hash.replace(/^#/, "") || "/";
}

function go(hash) {
  if (location.hash === hash) route();
  else location.replace(hash);
}

async function doLogout() {
  stopLive();
  try {
    await logout();
  } catch (error) {
    // The local session is gone either way; the login page says what the server said.
    loginReason = error.message;
  }
  shell = null;
  pending = "";
  go("#/login");
}

// A user's own language (the account's `language`, when the server has one) wins over
// the browser's; without it the console keeps what the browser chose or was told.
async function adoptUserLanguage(user) {
  if (user && user.language && user.language !== language()) await useLanguage(user.language);
}

function showLogin(username = "") {
  shell = null;
  const reason = loginReason;
  loginReason = "";
  replace(app, loginPage({
    reason,
    username,
    onLoggedIn: async (user) => {
      await adoptUserLanguage(user);
      const target = pending;
      pending = "";
      go(target && allowed(target, user) ? `#${target}` : homeRoute(user));
    },
    onLanguage: async (code, typed) => {
      await useLanguage(code);
      if (currentPath() === "/login" && !currentUser()) showLogin(typed);
    },
  }));
}

function routeTitle(r) {
  return r.titleKey ? t(r.titleKey) : r.title;
}

function allowed(path, user) {
  const match = ROUTES.find((r) => r.path.test(path));
  return !!match && match.roles.includes(user.role);
}

// Pages for someone not logged in besides the login page (password reset by e-mail).
function publicPage(path) {
  if (path === "/forgot-password") return forgotPasswordPage();
  const reset = /^\/reset-password\/([A-Za-z0-9_-]{20,100})$/.exec(path);
  return reset ? resetPasswordPage(reset[1]) : null;
}

function route() {
  // A dialog belongs to the page it was opened on: leaving the page (a link, Back) closes it.
  for (const dialog of document.querySelectorAll("dialog.modal[open]")) dialog.close();
  const path = currentPath();
  const user = currentUser();
  // A survey link works whether or not its reader is logged in: the link is the key.
  const survey = /^\/survey\/([0-9A-Za-z._-]{20,120})$/.exec(path);
  const open = survey ? surveyPage(survey[1]) : user ? null : publicPage(path);
  if (open) {
    shell = null;
    replace(app, open);
    return;
  }
  if (user && mustEnrolSecondFactor()) {
    shell = null;
    replace(app, enrolPage({ onLogout: doLogout, onDone: () => {
      secondFactorEnrolled();
      go(homeRoute(user));
    } }));
    return;
  }
  if (!user) {
    if (path !== "/login") {
      if (path !== "/") pending = path;
      go("#/login");
      return;
    }
    showLogin();
    return;
  }
  if (path === "/login" || path === "/") {
    go(homeRoute(user));
    return;
  }
  if (!shell) {
    shell = new Shell(user, { onLogout: doLogout });
    replace(app, shell.root);
    startLive(); // one feed per login: ticket changes reach whichever view is on screen
  }
  const found = ROUTES.map((r) => ({ r, m: r.path.exec(path) })).find((x) => x.m);
  const ctx = {
    user,
    home: homeRoute(user),
    params: found ? found.m.slice(1) : [],
    setTitle: (title) => shell.setTitle(title),
    onUserChanged: async (changed) => {
      updateUser(changed);
      if (changed.language && changed.language !== language()) {
        // The whole frame speaks the new language: build it again around the same route.
        await useLanguage(changed.language);
        shell = null;
        route();
        return;
      }
      shell.setUser(changed);
    },
  };
  if (!found) {
    notFoundView(shell.enter(null, t("route.not_found")), ctx);
  } else if (!found.r.roles.includes(user.role)) {
    notAllowedView(shell.enter(null, t("route.not_allowed")), ctx);
  } else {
    found.r.view(shell.enter(found.r.nav, routeTitle(found.r)), ctx);
  }
}

onSessionLost(() => {
  if (!currentUser()) return;
  stopLive();
  forget();
  pending = currentPath();
  loginReason = t("login.session_ended");
  go("#/login");
});

async function boot() {
  // The languages are the catalogue files the server lists (/static/locales/<code>.json).
  const codes = (await availableLanguages()).map((lang) => lang.code);
  await Promise.all([useLanguage(storedLanguage() || browserLanguage(codes)), loadBranding()]);
  try {
    await adoptUserLanguage(await restore());
  } catch (error) {
    loginReason = error.message;
  }
  window.addEventListener("hashchange", (event) => {
    // Several quick hash changes queue several events; only the latest one is rendered.
    if (event.newURL === location.href) route();
  });
  route();
  if (loginReason && currentUser()) showError(loginReason);
}

boot();
