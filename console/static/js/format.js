// Formatting of dates and small labels for tables.

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** Format an ISO timestamp as a local date and time ("—" when missing). */
export function dateTime(iso) {
  return iso ? DATE_TIME.format(new Date(iso)) : "\u2014";
}

/** Format an ISO timestamp as a local date ("—" when missing). */
export function date(iso) {
  return iso ? DATE.format(new Date(iso)) : "\u2014";
}

/** Return up to two initials of a name, for the avatar. */
export function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] || "?").slice(0, 2);
  return letters.toUpperCase();
}
