// Formatting of dates and small labels for tables.

let zone; // the user's IANA time zone (Account page); undefined: the browser's
let DATE_TIME;
let DATE;
let TIME;

function dateFormats() {
  const make = (options) => new Intl.DateTimeFormat(undefined, { ...options, timeZone: zone });
  DATE_TIME = make({ dateStyle: "medium", timeStyle: "short" });
  DATE = make({ dateStyle: "medium" });
  TIME = make({ timeStyle: "short" });
}

/** Show times in an IANA zone ("Asia/Jakarta"); null, or a zone Intl does not know: the browser's. */
export function setTimeZone(timeZone) {
  zone = timeZone || undefined;
  try {
    dateFormats();
  } catch {
    zone = undefined; // RangeError: a zone this browser lacks
    dateFormats();
  }
}

/** Return the zone times are shown in (the browser's when none was set). */
export function timeZone() {
  return zone || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

dateFormats();

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

const NUMBER = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** Format an ISO timestamp as a local time of day ("—" when missing). */
export function time(iso) {
  return iso ? TIME.format(new Date(iso)) : "\u2014";
}

/** Say how long ago an ISO timestamp was ("just now", "5 min ago", "3 h ago", "2 days ago"). */
export function ago(iso, now = Date.now()) {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 60) return days === 1 ? "1 day ago" : `${days} days ago`;
  return `on ${date(iso)}`;
}

/** Format a size given in MB (2**20 bytes, GLPI's unit) as MB, GB or TB. */
export function megabytes(mb) {
  if (mb === null || mb === undefined || mb === "" || Number.isNaN(Number(mb))) return "\u2014";
  const value = Number(mb);
  if (value >= 1024 * 1024) return `${NUMBER.format(value / (1024 * 1024))} TB`;
  if (value >= 1024) return `${NUMBER.format(value / 1024)} GB`;
  return `${NUMBER.format(value)} MB`;
}

/** Format a byte count as B, KB, MB or GB (powers of 1024). */
export function bytes(n) {
  if (n === null || n === undefined || n === "" || Number.isNaN(Number(n))) return "\u2014";
  const value = Number(n);
  if (value < 1024) return `${value} B`;
  if (value < 1024 ** 2) return `${NUMBER.format(value / 1024)} KB`;
  if (value < 1024 ** 3) return `${NUMBER.format(value / 1024 ** 2)} MB`;
  return `${NUMBER.format(value / 1024 ** 3)} GB`;
}

/** Format a percentage with no decimals ("—" when missing). */
export function percent(value) {
  return value === null || value === undefined ? "\u2014" : `${Math.round(Number(value))}%`;
}

/** Format a plain number with at most one decimal. */
export function number(value) {
  return NUMBER.format(Number(value));
}
