// Boot and hash router of the Deskmate console.

import { onSessionLost } from "./js/api.js";
import { browserLanguage, storedLanguage, useLanguage } from "./js/i18n.js";
import { replace } from "./js/dom.js";
import { startLive, stopLive } from "./js/live.js";
import { showError } from "./js/notice.js";
import { currentUser, forget, homeRoute, logout, restore, updateUser } from "./js/session.js";
import { Shell } from "./js/shell.js";
import { accountView, confirmEmailView } from "./js/views/account.js";
import { deskView } from "./js/views/desk.js";
import { deviceView } from "./js/views/device.js";
import { devicesView } from "./js/views/devices.js";
import { enrollmentView } from "./js/views/enrollment.js";
import { healthChecksView } from "./js/views/health_checks.js";
import { groupsView } from "./js/views/groups.js";
import { slaAdminView } from "./js/views/sla_admin.js";
import { kbView } from "./js/views/kb.js";
import { kbArticleView } from "./js/views/kb_article.js";
import { kbEditView } from "./js/views/kb_edit.js";
import { kbHistoryView } from "./js/views/kb_history.js";
import { kbReadingView } from "./js/views/kb_reading.js";
import { loginPage } from "./js/views/login.js";
import { portalView } from "./js/views/portal.js";
import { recordingView } from "./js/views/recording.js";
import { remoteView } from "./js/views/remote.js";
import { notAllowedView, notFoundView } from "./js/views/status.js";
import { ticketView } from "./js/views/ticket.js";
import { usersView } from "./js/views/users.js";

const ANYONE = ["admin", "technician", "requester"];
const STAFF = ["admin", "technician"];
const ADMIN = ["admin"];

// Each route: a path pattern, who may open it, its nav entry, title and view.
const ROUTES = [
  { path: /^\/desk$/, roles: STAFF, nav: "desk", title: "Desk", view: deskView },
  { path: /^\/desk\/tickets\/(\d+)$/, roles: STAFF, nav: "desk", title: "Ticket", view: ticketView },
  { path: /^\/desk\/remote\/(\d+)$/, roles: STAFF, nav: "desk", title: "Remote session", view: remoteView },
  { path: /^\/desk\/remote\/(\d+)\/recording$/, roles: STAFF, nav: "desk", title: "Session recording",
    view: recordingView },
  { path: /^\/devices$/, roles: STAFF, nav: "devices", title: "Devices", view: devicesView },
  { path: /^\/devices\/(\d+)(?:\/(hardware|network|software|changes))?$/, roles: STAFF, nav: "devices",
    title: "Device", view: deviceView },
  { path: /^\/portal(?:\/(new)|\/tickets\/(\d+))?$/, roles: ANYONE, nav: "portal", title: "My tickets",
    view: portalView },
  { path: /^\/kb$/, roles: ANYONE, nav: "kb", title: "Knowledge base", view: kbView },
  { path: /^\/kb\/articles\/(\d+)$/, roles: ANYONE, nav: "kb", title: "Article", view: kbArticleView },
  { path: /^\/kb\/(?:(new)|articles\/(\d+)\/edit)$/, roles: STAFF, nav: "kb", title: "Edit article",
    view: (root, ctx) => kbEditView(root, { ...ctx, params: [ctx.params[0] || ctx.params[1]] }) },
  { path: /^\/kb\/articles\/(\d+)\/history$/, roles: STAFF, nav: "kb", title: "History", view: kbHistoryView },
  { path: /^\/kb\/reading$/, roles: ANYONE, nav: "kb", title: "Required reading", view: kbReadingView },
  { path: /^\/admin\/users$/, roles: ADMIN, nav: "users", title: "Users", view: usersView },
  { path: /^\/admin\/groups(?:\/(\d+))?$/, roles: ADMIN, nav: "groups", title: "Groups", view: groupsView },
  { path: /^\/admin\/sla$/, roles: ADMIN, nav: "sla", title: "SLA", view: slaAdminView },
  { path: /^\/admin\/enrollment$/, roles: ADMIN, nav: "enrollment", title: "Enrollment",
    view: enrollmentView },
  { path: /^\/admin\/health$/, roles: ADMIN, nav: "health", title: "Health checks", view: healthChecksView },
  { path: /^\/account$/, roles: ANYONE, nav: "account", title: "Account", view: accountView },
  { path: /^\/account\/confirm-email\/([A-Za-z0-9_-]{16,100})$/, roles: ANYONE, nav: "account", title: "Account",
    view: confirmEmailView },
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

function showLogin() {
  shell = null;
  const reason = loginReason;
  loginReason = "";
  replace(app, loginPage({ reason, onLoggedIn: (user) => {
    const target = pending;
    pending = "";
    go(target && allowed(target, user) ? `#${target}` : homeRoute(user));
  } }));
}

function allowed(path, user) {
  const match = ROUTES.find((r) => r.path.test(path));
  return !!match && match.roles.includes(user.role);
}

function route() {
  const path = currentPath();
  const user = currentUser();
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
    onUserChanged: (changed) => {
      updateUser(changed);
      shell.setUser(changed);
    },
  };
  if (!found) {
    notFoundView(shell.enter(null, "Not found"), ctx);
  } else if (!found.r.roles.includes(user.role)) {
    notAllowedView(shell.enter(null, "Not allowed"), ctx);
  } else {
    found.r.view(shell.enter(found.r.nav, found.r.title), ctx);
  }
}

onSessionLost(() => {
  if (!currentUser()) return;
  stopLive();
  forget();
  pending = currentPath();
  loginReason = "your session has ended; please log in again";
  go("#/login");
});

// The languages the console has catalogues for (/static/locales/<code>.json).
const LANGUAGES = ["en", "id"];

async function boot() {
  await useLanguage(storedLanguage() || browserLanguage(LANGUAGES));
  try {
    await restore();
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
