// Overview: a card per product with its license status, the days left of its trial or grace
// period, the current period, the figures, and (for admins) its number of devices. Activate and
// Where to buy licenses start here, as in the manual.

import * as api from "../api.js";
import { field, h, notice, replace } from "../dom.js";
import { date, number, t } from "../i18n.js";

const DAY = 24 * 3600 * 1000;

export function daysLeft(until, asOf) {
  return Math.max(0, Math.ceil((new Date(until) - new Date(asOf)) / DAY));
}

export function statusBadge(status) {
  const word = t(`status.${status || "none"}`);
  return h("span", { class: `badge badge-${status || "none"}` }, word);
}

function figure(label, value) {
  return [h("dt", {}, label), h("dd", {}, value)];
}

function card(product, asOf, ctx, messages) {
  const sub = product.subscription;
  const id = `product-${product.product_id}`;
  const lines = [];
  if (product.status === "trial") lines.push(t("overview.trialLeft", { days: daysLeft(product.trial.ends_at, asOf) }));
  if (product.status === "trial_expired") lines.push(t("overview.trialOver", { date: date(product.trial.ends_at) }));
  if (product.status === "grace") lines.push(t("overview.graceLeft", { days: daysLeft(sub.grace_ends_at, asOf) }));
  const figures = h(
    "dl",
    { class: "figures" },
    sub ? figure(t("overview.period"), t("overview.periodRange", { start: date(sub.period_start), end: date(sub.period_end) })) : null,
    figure(t("overview.devices"), number(product.devices)),
    sub ? figure(t("overview.licensed"), number(sub.licensed)) : null,
    sub ? figure(t("overview.shortfall"), number(sub.shortfall)) : null,
    figure(t("overview.wallet"), number(product.wallet)),
    sub ? figure(t("overview.toBuy"), number(sub.licenses_needed_at_next_renewal)) : null,
    sub ? figure(t("overview.nextRenewal"), date(sub.next_renewal_at)) : null,
  );
  const systems = product.systems.length
    ? h(
        "div",
        { class: "systems" },
        h("p", { class: "muted" }, t("overview.systems")),
        h(
          "ul",
          {},
          product.systems.map((s) =>
            h("li", {}, t("overview.systemLine", { name: s.name, devices: number(s.devices) }), s.stale ? h("strong", { class: "stale" }, ` (${t("systems.stale")})`) : null),
          ),
          h("li", {}, t("overview.declared", { count: number(product.declared_devices) })),
        ),
      )
    : null;
  const parts = [
    h("h2", { id }, product.name),
    h("p", { class: "status" }, t("overview.statusLabel"), " ", statusBadge(product.status)),
    lines.map((line) => h("p", { class: "days-left" }, line)),
    figures,
    systems,
  ];
  if (ctx.org.role !== "viewer") parts.push(devicesForm(product, ctx, messages));
  return h("section", { class: "card", "aria-labelledby": id }, parts);
}

function devicesForm(product, ctx, messages) {
  const input = h("input", { type: "number", min: 0, max: 100000, step: 1, inputmode: "numeric", value: product.devices });
  return h(
    "form",
    {
      class: "inline",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        const devices = Number(input.value);
        try {
          await api.put(`/orgs/${ctx.org.org_id}/products/${product.product_id}/usage`, { devices });
          await render(ctx.page, ctx, notice("success", t("overview.devicesSaved", { product: product.name, devices })));
        } catch (error) {
          input.setAttribute("aria-invalid", "true");
          replace(messages, notice("error", error.field === "devices" ? error.message : ctx.problemText(error)));
        }
      },
    },
    field(`${t("overview.setDevices")} (${product.name})`, input),
    h("button", { type: "submit", class: "secondary" }, t("overview.saveDevices")),
  );
}

async function render(page, ctx, message = null) {
  const org = ctx.org;
  const [overview, catalog] = await Promise.all([api.get(`/orgs/${org.org_id}/overview`), api.get("/products")]);
  const activated = new Set(overview.products.filter((p) => p.subscription).map((p) => p.product_id));
  const canActivate = org.role !== "viewer" && catalog.products.some((p) => !activated.has(p.product_id));
  const messages = h("div", { class: "messages" }, message);
  const actions = h(
    "p",
    { class: "actions" },
    canActivate
      ? h("button", { type: "button", onclick: () => ctx.go(`#/orgs/${org.org_id}/activate`) }, t("overview.activate"))
      : null,
    h("a", { href: `#/orgs/${org.org_id}/buy` }, t("nav.buy")),
  );
  const cards = overview.products.map((product) => card(product, overview.as_of, { ...ctx, page }, messages));
  replace(
    page,
    h("h1", {}, t("overview.title")),
    messages,
    actions,
    cards.length ? h("div", { class: "cards" }, cards) : h("p", { class: "empty" }, t("overview.empty")),
  );
}

export async function overviewPage(page, ctx) {
  await render(page, ctx);
}
