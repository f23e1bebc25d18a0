// Messages in English and French, keyed by meaning (console/i18n/*.json). The language follows
// the browser (navigator.languages) until the user picks one with the visible switch, which is
// remembered. Numbers and dates go through Intl, in the user's language.

export const LANGUAGES = { en: "English", fr: "Français" };
const STORED = "license-manager.lang";
let lang = "en";
let messages = {};

export function preferred() {
  const stored = localStorage.getItem(STORED);
  if (stored && stored in LANGUAGES) return stored;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const base = tag.toLowerCase().split("-")[0];
    if (base in LANGUAGES) return base;
  }
  return "en";
}

export async function load(wanted, remember = false) {
  const response = await fetch(`/console/i18n/${wanted}.json`);
  messages = await response.json();
  lang = wanted;
  if (remember) localStorage.setItem(STORED, wanted);
  document.documentElement.lang = wanted;
}

export function current() {
  return lang;
}

/** The message `key` with its {placeholders} and {n, plural, one {…} other {…}} filled in. */
export function t(key, vars = {}) {
  const template = messages[key];
  if (template === undefined) return key;
  return format(template, vars);
}

function format(template, vars) {
  let out = "";
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf("{", i);
    if (open < 0) break;
    out += template.slice(i, open);
    const close = matching(template, open);
    out += placeholder(template.slice(open + 1, close), vars);
    i = close + 1;
  }
  return out + template.slice(i);
}

function matching(text, open) {
  let depth = 0;
  for (let j = open; j < text.length; j += 1) {
    if (text[j] === "{") depth += 1;
    if (text[j] === "}" && --depth === 0) return j;
  }
  return text.length - 1;
}

function placeholder(body, vars) {
  const [name, kind, ...rest] = body.split(",");
  const value = vars[name.trim()];
  if (kind === undefined) return typeof value === "number" ? number(value) : String(value ?? "");
  const options = {};
  const spec = rest.join(",");
  for (const match of spec.matchAll(/(\w+)\s*\{([^{}]*)\}/g)) options[match[1]] = match[2];
  const rule = new Intl.PluralRules(lang).select(Number(value));
  const chosen = options[rule] ?? options.other ?? "";
  return chosen.replaceAll("#", number(Number(value)));
}

export function number(value) {
  return new Intl.NumberFormat(lang).format(value);
}

export function date(iso) {
  return new Intl.DateTimeFormat(lang, { dateStyle: "long" }).format(new Date(iso));
}

export function dateTime(iso) {
  return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

export function country(code) {
  try {
    return new Intl.DisplayNames([lang], { type: "region" }).of(code) || code;
  } catch {
    return code;
  }
}
