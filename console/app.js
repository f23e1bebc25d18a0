// The console's shell: configuration, language, sign-in state, the header and its navigation,
// and the router. State lives in the URL (#/orgs/<id>/<page>) and the token; every page reads the
// API again when shown, so reload and the back button just work.

import * as api from "./api.js";
import * as auth from "./auth.js";
import { h, replace } from "./dom.js";
import * as i18n from "./i18n.js";
import { t } from "./i18n.js";
import { activatePage } from "./pages/activate.js";
import { buyPage } from "./pages/buy.js";
import { historyPage } from "./pages/history.js";
import { membersPage } from "./pages/members.js";
import { orgsPage } from "./pages/orgs.js";
import { overviewPage } from "./pages/overview.js";
import { signinPage } from "./pages/signin.js";
import { systemsPage } from "./pages/systems.js";
import { vendorPage } from "./pages/vendor.js";
import { walletPage } from "./pages/wallet.js";

const ORG_PAGES = {
  overview: overviewPage,
  activate: activatePage,
  wallet: walletPage,
  history: historyPage,
  members: membersPage,
  systems: systemsPage,
  buy: buyPage,
};
const main = document.getElementById("main");
const nav = document.getElementById("nav");
const tools = document.getElementById("tools");
let config = { mode: "dev" };
let orgs = null; // the caller's orgs and roles, read once per sign-in
let shown = 0; // pages shown since the console loaded

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

export async function myOrgs(fresh = false) {
  if (orgs === null || fresh) orgs = await api.all("/orgs", "orgs");
  return orgs;
}

function header(org) {
  const session = auth.session();
  const language = h(
    "select",
    {
      id: "language",
      onchange: async (event) => {
        await i18n.load(event.target.value, true);
        route();
      },
    },
    Object.entries(i18n.LANGUAGES).map(([code, name]) =>
      h("option", { value: code, lang: code, selected: code === i18n.current() }, name),
    ),
  );
  replace(
    tools,
    h("label", { for: "language", class: "language-label" }, t("app.language")),
    language,
    session.email ? h("span", { class: "who" }, t("app.signedInAs", { email: session.email })) : null,
    session.token
      ? h("button", { type: "button", class: "secondary", onclick: () => signOut() }, t("app.signOut"))
      : null,
  );
  document.getElementById("skip").textContent = t("app.skip");
  nav.hidden = !org && !session.vendor;
  if (nav.hidden) return replace(nav);
  const here = location.hash;
  const link = (hash, label) => h("a", { href: hash, "aria-current": here === hash ? "page" : null }, label);
  const base = org ? `#/orgs/${org.org_id}` : null;
  nav.setAttribute("aria-label", org ? `${t("nav.label")}: ${org.name}` : t("nav.vendor"));
  replace(
    nav,
    h(
      "ul",
      {},
      org ? h("li", { class: "org-name" }, org.name) : null,
      org ? h("li", {}, link(`${base}/overview`, t("nav.overview"))) : null,
      org ? h("li", {}, link(`${base}/wallet`, t("nav.wallet"))) : null,
      org ? h("li", {}, link(`${base}/history`, t("nav.history"))) : null,
      org ? h("li", {}, link(`${base}/systems`, t("nav.systems"))) : null,
      org && org.role === "owner" ? h("li", {}, link(`${base}/members`, t("nav.members"))) : null,
      org ? h("li", {}, link(`${base}/buy`, t("nav.buy"))) : null,
      session.vendor ? h("li", {}, link("#/vendor", t("nav.vendor"))) : null,
      org ? h("li", {}, link("#/orgs", t("app.changeOrg"))) : null,
    ),
  );
}

function signOut() {
  orgs = null;
  auth.signOut(config);
  go("#/signin");
}

/** Render a page: its <h1> gets the focus (screen readers announce the new page) and the title. */
async function show(render, ctx) {
  const page = h("div", { class: "page" });
  replace(main, page);
  await render(page, ctx);
  const heading = page.querySelector("h1");
  if (heading) {
    document.title = `${heading.textContent} – License Manager`;
    heading.setAttribute("tabindex", "-1");
    // announce a page the user moved to (the first one is the document itself, whose first Tab
    // stop is the skip link), unless the user is already working in it (typing while it loaded)
    shown += 1;
    if (shown > 1 && !page.contains(document.activeElement)) heading.focus({ preventScroll: true });
  }
}

function problemText(error) {
  if (error instanceof api.ApiError) {
    if (error.status === 0) return t("error.offline");
    if (error.status === 403) return t("error.forbidden");
    if (error.status === 404) return t("error.notFound");
    if (error.status === 503) return t("error.busy");
    return t("error.generic", { detail: error.message });
  }
  return t("error.generic", { detail: String(error) });
}

export async function route() {
  const hash = location.hash || "#/";
  const ctx = { config, go, myOrgs, problemText };
  try {
    if (!auth.signedIn()) {
      header(null);
      return await show(signinPage, ctx);
    }
    const match = hash.match(/^#\/orgs\/(org_[0-9a-z]{20})\/(\w+)$/);
    if (match && match[2] in ORG_PAGES) {
      let org = (await myOrgs()).find((o) => o.org_id === match[1]);
      if (!org) org = (await myOrgs(true)).find((o) => o.org_id === match[1]);
      if (!org) return go("#/orgs");
      header(org);
      return await show(ORG_PAGES[match[2]], { ...ctx, org });
    }
    if (hash === "#/vendor" && auth.session().vendor) {
      header(null);
      return await show(vendorPage, ctx);
    }
    if (hash !== "#/orgs") return go(auth.session().vendor && hash !== "#/orgs" ? "#/vendor" : "#/orgs");
    header(null);
    return await show(orgsPage, ctx);
  } catch (error) {
    replace(main, h("div", { class: "page" }, h("p", { class: "notice notice-error", role: "alert" }, problemText(error))));
  }
}

async function start() {
  const response = await fetch("/console/config.json");
  if (response.ok) config = await response.json();
  api.configure(config.apiUrl);
  await i18n.load(i18n.preferred());
  api.whenSignedOut(() => {
    orgs = null;
    auth.signOut({ mode: "dev" });
    go("#/signin");
  });
  if (config.mode === "cognito" && location.search.includes("code=")) await auth.completeCognitoSignIn(config);
  document.getElementById("skip").addEventListener("click", (event) => {
    event.preventDefault(); // the hash belongs to the router
    main.focus();
  });
  window.addEventListener("hashchange", route);
  await route();
}

start();
