// The one module that talks HTTP: adds the token, sends JSON, and turns problem+json answers
// into ApiError (status, code, detail, field...). Locally the API is the console's own origin; in
// AWS its URL comes from the runtime configuration (the API allows CORS for the console only).

import { session } from "./auth.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.code = problem.code || null;
    this.field = problem.field || null;
    this.retryAfter = problem.retryAfter || null;
  }
}

let base = "";
export function configure(apiUrl) {
  base = (apiUrl || "").replace(/\/$/, "");
}

let onSignedOut = () => {};
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

function newKey() {
  return crypto.randomUUID();
}

/** `method path` with an optional JSON body. POSTs carry an Idempotency-Key, so a retry of the
 * same call (the same `key`) never happens twice. */
export async function call(method, path, body = undefined, { key = undefined } = {}) {
  const headers = { Accept: "application/json" };
  const token = session().token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method === "POST") headers["Idempotency-Key"] = key || newKey();
  let response;
  try {
    response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { title: "offline", code: "offline", detail: "" });
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (response.ok) return data;
  const problem = data && typeof data === "object" ? data : { title: response.statusText, detail: text };
  problem.retryAfter = Number(response.headers.get("Retry-After")) || null;
  const error = new ApiError(response.status, problem);
  if (response.status === 401 && path !== "/_dev/token") onSignedOut(error);
  throw error;
}

export const get = (path) => call("GET", path);
export const post = (path, body, options) => call("POST", path, body, options);
export const put = (path, body) => call("PUT", path, body);
export const del = (path) => call("DELETE", path);

/** Every page of a paged list (`next_cursor`), as one array of `field`. */
export async function all(path, field, limit = 100) {
  const items = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    const page = await get(`${path}?${query}`);
    items.push(...page[field]);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}
