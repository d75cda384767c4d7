// The logged-in user, kept in memory only (the session cookie is HttpOnly).

import { api, setCsrfToken } from "./api.js";
import { setTimeZone } from "./format.js";
import { t } from "./i18n.js";

let current = null;
let enrolmentRequired = false; // an admin who must set up a second factor first

/** Return the logged-in user, or null. */
export function currentUser() {
  return current;
}

function adopt(info) {
  current = info.user;
  enrolmentRequired = !!info.second_factor_enrolment_required;
  setCsrfToken(info.csrf_token);
  setTimeZone(current.time_zone);
  return current;
}

/** Adopt a session the server answered with (the login's second step); return the user. */
export function adoptSession(info) {
  return adopt(info);
}

/** Tell whether the server holds this admin to setting up a second factor first. */
export function mustEnrolSecondFactor() {
  return enrolmentRequired;
}

/** Note that the second factor is set up now. */
export function secondFactorEnrolled() {
  enrolmentRequired = false;
}

/** Forget the session locally (after logout or when the server says it ended). */
export function forget() {
  current = null;
  setCsrfToken("");
  setTimeZone(null);
}

/** Restore the session from the cookie; return the user or null when not logged in. */
export async function restore() {
  try {
    return adopt(await api.get("/api/v1/auth/session", undefined, { probe: true }));
  } catch (error) {
    if (error.status === 401) return null;
    throw error;
  }
}

/** Log in with a user name and password; return the user. Throws ApiError. */
export async function login(username, password) {
  return adopt(await api.post("/api/v1/auth/login", { username, password }));
}

/** Log out on the server, then forget locally (even if the server call fails). */
export async function logout() {
  try {
    await api.post("/api/v1/auth/logout");
  } finally {
    forget();
  }
}

/** Replace the stored user (after the user edited themselves). */
export function updateUser(user) {
  if (current && user.id === current.id) {
    current = user;
    setTimeZone(user.time_zone);
  }
}

export const ROLES = ["admin", "technician", "requester"];

/** Return the name of a role in the console's language ("Admin", "Teknisi", ...). */
export function roleLabel(role) {
  return ROLES.includes(role) ? t(`role.${role}`) : role;
}

/** Tell whether the user works the desk (technicians and admins). */
export function isStaff(user) {
  return !!user && (user.role === "admin" || user.role === "technician");
}

/** Return the landing route of a user's role. */
export function homeRoute(user) {
  return isStaff(user) ? "#/desk" : "#/portal";
}
