// Who is signed in. The ID token lives in sessionStorage only: it is gone when the tab closes,
// and signing out clears it.
//
// Locally the dev server signs tokens (POST /_dev/token). In AWS the console signs in through the
// Cognito managed login with the authorization code flow and PKCE (no implicit flow): the browser
// keeps a random verifier, sends its SHA-256 challenge, and exchanges the code for tokens itself.
// Customers and vendor staff have separate user pools (vendor staff must use MFA): `pool` says
// which login to use ("customer" or "vendor"); the session remembers it for signing out.

const STORE = "license-manager.session";
const PKCE = "license-manager.pkce";

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE)) || {};
  } catch {
    return {};
  }
}

function claims(token) {
  const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "=")), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function keep(token, pool = "customer") {
  const c = claims(token);
  const groups = Array.isArray(c["cognito:groups"]) ? c["cognito:groups"] : [];
  const value = { token, email: c.email, vendor: groups.includes("vendor-admin"), expires: c.exp, pool };
  sessionStorage.setItem(STORE, JSON.stringify(value));
  return value;
}

export function signedIn() {
  const s = session();
  return Boolean(s.token) && s.expires * 1000 > Date.now();
}

export async function devSignIn(email, vendor) {
  const response = await fetch("/_dev/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, groups: vendor ? ["vendor-admin"] : [] }),
  });
  if (!response.ok) throw new Error((await response.json()).detail);
  return keep((await response.json()).token);
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** RFC 7636: the S256 challenge of a verifier. */
export async function challenge(verifier) {
  return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
}

/** The managed login of a pool: its domain and app client. */
export function login(config, pool) {
  if (pool === "vendor") return config.vendor || null;
  return { cognitoDomain: config.cognitoDomain, clientId: config.clientId };
}

export async function cognitoSignIn(config, pool = "customer") {
  const target = login(config, pool);
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem(PKCE, JSON.stringify({ verifier, state, pool }));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: target.clientId,
    redirect_uri: config.redirectUri,
    scope: "openid email",
    state,
    code_challenge: await challenge(verifier),
    code_challenge_method: "S256",
  });
  location.assign(`https://${target.cognitoDomain}/oauth2/authorize?${query}`);
}

/** Back from the managed login with ?code=&state=: exchange the code for tokens. */
export async function completeCognitoSignIn(config) {
  const params = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(PKCE) || "null");
  sessionStorage.removeItem(PKCE);
  if (!params.get("code") || !pending || params.get("state") !== pending.state) return false;
  const target = login(config, pending.pool);
  if (!target) return false;
  const response = await fetch(`https://${target.cognitoDomain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: target.clientId,
      code: params.get("code"),
      redirect_uri: config.redirectUri,
      code_verifier: pending.verifier,
    }),
  });
  if (!response.ok) return false;
  keep((await response.json()).id_token, pending.pool === "vendor" ? "vendor" : "customer");
  history.replaceState(null, "", location.pathname + location.hash);
  return true;
}

export function signOut(config) {
  const target = config.mode === "cognito" ? login(config, session().pool) : null;
  sessionStorage.removeItem(STORE);
  sessionStorage.removeItem(PKCE);
  if (target) {
    const query = new URLSearchParams({ client_id: target.clientId, logout_uri: config.redirectUri });
    location.assign(`https://${target.cognitoDomain}/logout?${query}`);
  }
}
