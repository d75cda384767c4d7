// Fetch wrapper for the Deskmate REST API: JSON in and out, the one error shape, CSRF.

import { language, t } from "./i18n.js";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * An error answer of the API ({"error": {"code", "message"}}) or a network failure;
 * `field` names the offending value of a validation error, when the server says.
 */
export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

let csrfToken = "";
let sessionLost = () => {};

/** Remember the CSRF token of the current console session ("" when logged out). */
export function setCsrfToken(token) {
  csrfToken = token || "";
}

/** Return the CSRF token of the current console session (the remote viewer's hello). */
export function csrf() {
  return csrfToken;
}

/** Set what happens when the session ends under our feet (a 401 on a normal call). */
export function onSessionLost(handler) {
  sessionLost = handler;
}

function url(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function errorFrom(response) {
  try {
    const body = await response.json();
    if (body && body.error && typeof body.error.message === "string") {
      return new ApiError(response.status, String(body.error.code), body.error.message,
        typeof body.error.field === "string" ? body.error.field : null);
    }
  } catch {
    // Not our JSON shape (a proxy page, say): fall through to a generic message.
  }
  return new ApiError(response.status, "http_error",
    t("error.http", { status: `${response.status} ${response.statusText}`.trim() }));
}

/**
 * Call the API and return the decoded JSON body (null for 204). `body` is sent as JSON,
 * `form` (a FormData) as multipart/form-data, `raw` (a Blob) as application/octet-stream.
 * Throws ApiError. A 401 "unauthorized" (the session is gone) also calls the session-lost
 * handler, unless `probe` is set (the boot-time session check expects it).
 */
export async function request(method, path, { body, form, raw, query, probe = false } = {}) {
  // The server answers error messages in the console's language where it can.
  const headers = { Accept: "application/json", "Accept-Language": language() };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (form !== undefined) {
    init.body = form; // FormData: the browser sets multipart/form-data with its boundary
  } else if (raw !== undefined) {
    headers["Content-Type"] = "application/octet-stream";
    init.body = raw; // a Blob: bytes as they are (a file's piece)
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (UNSAFE.has(method) && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response;
  try {
    response = await fetch(url(path, query), init);
  } catch {
    throw new ApiError(0, "network_error", t("error.network"));
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    // invalid_credentials is a wrong password (login, password change), not a lost session.
    if (error.status === 401 && error.code === "unauthorized" && !probe) sessionLost(error);
    throw error;
  }
  if (response.status === 204) return null;
  return response.json();
}

export const api = {
  get: (path, query, opts) => request("GET", path, { query, ...opts }),
  post: (path, body) => request("POST", path, { body }),
  patch: (path, body) => request("PATCH", path, { body }),
  put: (path, body) => request("PUT", path, { body }),
  delete: (path) => request("DELETE", path),
  /** POST a multipart/form-data body (file uploads). */
  upload: (path, form) => request("POST", path, { form }),
};
