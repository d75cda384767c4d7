// Formatting of dates, numbers and small labels in the console's language (Intl).

import { language, t } from "./i18n.js";

// Intl formatters are costly to build: one per language, zone and style, built on first
// use so that a language switch (useLanguage) or a time-zone change is followed by the
// next call.
const cache = new Map();
let zone; // the user's IANA time zone (Account page); undefined: the browser's

function formatter(kind, options) {
  const zoned = kind === "DateTimeFormat" ? { ...options, timeZone: zone } : options;
  const key = `${language()}|${kind}|${JSON.stringify(zoned)}`;
  let made = cache.get(key);
  if (!made) {
    made = new Intl[kind](language(), zoned);
    cache.set(key, made);
  }
  return made;
}

/** Show times in an IANA zone ("Asia/Jakarta"); null, or a zone Intl does not know: the browser's. */
export function setTimeZone(timeZone) {
  zone = timeZone || undefined;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: zone });
  } catch {
    zone = undefined; // RangeError: a zone this browser lacks
  }
}

/** Return the zone times are shown in (the browser's when none was set). */
export function timeZone() {
  return zone || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Format an ISO timestamp as a local date and time ("—" when missing). */
export function dateTime(iso) {
  return iso ? formatter("DateTimeFormat", { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso))
    : "\u2014";
}

/** Format an ISO timestamp as a local date ("—" when missing). */
export function date(iso) {
  return iso ? formatter("DateTimeFormat", { dateStyle: "medium" }).format(new Date(iso)) : "\u2014";
}

/** Return up to two initials of a name, for the avatar. */
export function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] || "?").slice(0, 2);
  return letters.toUpperCase();
}

/** Format an ISO timestamp as a local time of day ("—" when missing). */
export function time(iso) {
  return iso ? formatter("DateTimeFormat", { timeStyle: "short" }).format(new Date(iso)) : "\u2014";
}

/**
 * Say how long ago an ISO timestamp was, in the console's language ("just now",
 * "5 minutes ago", "3 hours ago", "2 days ago", then the date).
 */
export function ago(iso, now = Date.now()) {
  if (!iso) return t("time.never");
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (seconds < 45) return t("time.just_now");
  const relative = formatter("RelativeTimeFormat", { numeric: "auto", style: "long" });
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return relative.format(-minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (hours < 24) return relative.format(-hours, "hour");
  const days = Math.round(hours / 24);
  if (days < 60) return relative.format(-days, "day");
  return t("time.on_date", { date: date(iso) });
}

/** Format a number with at most one decimal in the console's language. */
export function number(value) {
  return formatter("NumberFormat", { maximumFractionDigits: 1 }).format(Number(value));
}

/** Format a size given in MB (2**20 bytes, GLPI's unit) as MB, GB or TB. */
export function megabytes(mb) {
  if (mb === null || mb === undefined || mb === "" || Number.isNaN(Number(mb))) return "\u2014";
  const value = Number(mb);
  if (value >= 1024 * 1024) return `${number(value / (1024 * 1024))} TB`;
  if (value >= 1024) return `${number(value / 1024)} GB`;
  return `${number(value)} MB`;
}

/** Format a byte count as B, KB, MB or GB (powers of 1024). */
export function bytes(n) {
  if (n === null || n === undefined || n === "" || Number.isNaN(Number(n))) return "\u2014";
  const value = Number(n);
  if (value < 1024) return `${number(value)} B`;
  if (value < 1024 ** 2) return `${number(value / 1024)} KB`;
  if (value < 1024 ** 3) return `${number(value / 1024 ** 2)} MB`;
  return `${number(value / 1024 ** 3)} GB`;
}

/** Format a percentage with no decimals ("—" when missing). */
export function percent(value) {
  return value === null || value === undefined ? "\u2014"
    : formatter("NumberFormat", { style: "percent", maximumFractionDigits: 0 }).format(Number(value) / 100);
}
