// Message catalogues and the locale of the console.
//
// A catalogue is a flat JSON object under /static/locales/<language>.json: a stable key
// ("nav.desk") to the text a person reads, with {name} placeholders. Plural texts are
// keys with a CLDR category suffix ("tickets.count.one", "tickets.count.other"), picked
// by Intl.PluralRules. English is the fallback for a key another catalogue lacks.
// Dates and numbers follow the same language through Intl (see format.js).

const FALLBACK = "en";
const STORED = "deskmate.language";

let current = FALLBACK;
let messages = {};
let fallback = {};
let plurals = new Intl.PluralRules(FALLBACK);
let languages = null; // the server's list, fetched once

async function fetchCatalogue(language) {
  const response = await fetch(`/static/locales/${encodeURIComponent(language)}.json`,
    { credentials: "same-origin" });
  if (!response.ok) throw new Error(`no catalogue for ${language}`);
  return response.json();
}

/** Return the language the console speaks now ("en", "id", ...). */
export function language() {
  return current;
}

/** Return the first of the browser's preferred languages that `available` has, else English. */
export function browserLanguage(available) {
  const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  for (const tag of wanted) {
    const base = String(tag || "").toLowerCase().split("-")[0];
    if (available.includes(base)) return base;
  }
  return FALLBACK;
}

/**
 * Load and switch to a language's catalogue; an unknown language falls back to English.
 * Remembered in this browser so that the login page speaks it before anyone logs in.
 */
export async function useLanguage(code) {
  if (!Object.keys(fallback).length) fallback = await fetchCatalogue(FALLBACK);
  let chosen = code || FALLBACK;
  try {
    messages = chosen === FALLBACK ? fallback : await fetchCatalogue(chosen);
  } catch {
    chosen = FALLBACK;
    messages = fallback;
  }
  current = chosen;
  plurals = new Intl.PluralRules(chosen);
  document.documentElement.lang = chosen;
  try {
    localStorage.setItem(STORED, chosen);
  } catch {
    // Storage may be off (private mode): the choice then lasts this page only.
  }
  return chosen;
}

/** Return the language this browser used last, or "" when it never chose one. */
export function storedLanguage() {
  try {
    return localStorage.getItem(STORED) || "";
  } catch {
    return "";
  }
}

function fill(text, params) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Return the text of `key` in the current language with {name} placeholders filled. */
export function t(key, params) {
  const text = messages[key] ?? fallback[key];
  if (text === undefined) {
    console.warn(`i18n: missing key ${key}`);
    return key;
  }
  return fill(text, params);
}

/** Return the plural form of `key` for the count `n` (also passed as {n}). */
export function tn(key, n, params) {
  const category = plurals.select(n);
  const exact = `${key}.${category}`;
  const chosen = (exact in messages || exact in fallback) ? exact : `${key}.other`;
  return t(chosen, { n, ...params });
}

/**
 * Return an object whose properties read `prefix.<name>` in the current language at each
 * access, so a table of labels ({new: "New", ...}) follows a language switch.
 */
export function labels(prefix, names) {
  const table = {};
  for (const name of names) {
    Object.defineProperty(table, name, { enumerable: true, get: () => t(`${prefix}.${name}`) });
  }
  return Object.freeze(table);
}


/**
 * Return the languages the console has catalogues for, [{code, name}], as the server lists
 * them (one per file in /static/locales/); English alone when the list cannot be read.
 */
export function availableLanguages() {
  if (!languages) {
    languages = fetch("/api/v1/languages", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))))
      .then((body) => body.items)
      .catch(() => {
        languages = null; // try again next time
        return [{ code: FALLBACK, name: "English" }];
      });
  }
  return languages;
}

/** Tell whether the catalogues have `key` (for texts chosen by a server-side name). */
export function has(key) {
  return key in messages || key in fallback;
}
