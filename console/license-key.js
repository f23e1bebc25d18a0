// License keys as the server reads them (shared/license_manager/domain/license_keys.py): 25
// Crockford base32 symbols, the last a check symbol computed in GF(32) (x^5 + x^2 + 1). Typing is
// forgiving: case, spaces and dashes do not matter, I and L read as 1, O as 0. A test feeds this
// module and the server the same keys.

export const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const PAYLOAD = 24;
const SYMBOLS = PAYLOAD + 1;
const VALUE = Object.fromEntries([...ALPHABET].map((symbol, value) => [symbol, value]));
const EXP = [];
const LOG = new Array(32).fill(0);
for (let power = 0, x = 1; power < 31; power += 1) {
  EXP.push(x);
  LOG[x] = power;
  x <<= 1;
  if (x & 0b100000) x ^= 0b100101;
}
const WEIGHTS = Array.from({ length: PAYLOAD }, (_, i) => EXP[(i + 1) % 31]);

function multiply(a, b) {
  return a === 0 || b === 0 ? 0 : EXP[(LOG[a] + LOG[b]) % 31];
}

/** The canonical symbols of what was typed (no check made). */
export function symbols(typed) {
  return typed.replace(/[\s-]+/g, "").toUpperCase().replace(/[IL]/g, "1").replace(/O/g, "0");
}

export function checkSymbol(payload) {
  let total = 0;
  for (let i = 0; i < PAYLOAD; i += 1) total ^= multiply(WEIGHTS[i], VALUE[payload[i]]);
  return ALPHABET[total];
}

/** "complete", "incomplete" (fewer or more than 25 symbols) or "mistyped" (bad symbol or check). */
export function verdict(typed) {
  const s = symbols(typed);
  if ([...s].some((c) => !(c in VALUE))) return "mistyped";
  if (s.length !== SYMBOLS) return "incomplete";
  return checkSymbol(s.slice(0, PAYLOAD)) === s[PAYLOAD] ? "complete" : "mistyped";
}

/** Grouped as printed, `7K3QF-9ZP2M-…`, as far as it goes. */
export function grouped(typed) {
  const s = symbols(typed).slice(0, SYMBOLS);
  return (s.match(/.{1,5}/g) || []).join("-");
}
