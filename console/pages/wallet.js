// Wallet: spare licenses per product and what to buy before the next renewal; and, for admins,
// the License key field: typed or pasted in any case, with or without dashes, grouped as you type,
// and checked (the same check symbol as the server) before anything is sent.

import * as api from "../api.js";
import { field, h, notice, replace } from "../dom.js";
import { date, number, t } from "../i18n.js";
import { grouped, symbols, verdict } from "../license-key.js";

export function keyRefusal(error, problemText) {
  switch (error.code) {
    case "mistyped_key":
      return t("key.mistyped");
    case "unknown_key":
      return t("key.unknown");
    case "revoked_key":
      return t("key.revoked");
    case "already_redeemed":
      return error.problem.redeemed_at ? t("key.alreadyYours", { date: date(error.problem.redeemed_at) }) : t("key.alreadyRedeemed");
    case "redemptions_throttled":
      return t("key.throttled", { seconds: error.retryAfter || 60 });
    default:
      return problemText(error);
  }
}

function table(lines) {
  if (!lines.length) return h("p", { class: "empty" }, t("wallet.empty"));
  return h(
    "table",
    {},
    h("caption", { class: "visually-hidden" }, t("wallet.title")),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        [t("wallet.product"), t("wallet.spare"), t("wallet.devices"), t("wallet.nextRenewal"), t("wallet.toBuy")].map((c) =>
          h("th", { scope: "col" }, c),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      lines.map((line) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, line.name),
          h("td", { class: "num" }, number(line.wallet)),
          h("td", { class: "num" }, number(line.devices)),
          h("td", {}, line.next_renewal_at ? date(line.next_renewal_at) : "—"),
          h("td", { class: "num" }, number(line.licenses_to_buy_before_next_renewal)),
        ),
      ),
    ),
  );
}

function redeemForm(ctx, messages, reload) {
  const input = h("input", {
    type: "text",
    name: "license_key",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    maxlength: 40,
    class: "license-key",
  });
  const problem = h("p", { class: "field-error", id: "license-key-error", "aria-live": "polite" });
  const flag = (message) => {
    problem.textContent = message || "";
    if (message) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-errormessage", problem.id);
    } else {
      input.removeAttribute("aria-invalid");
    }
  };
  input.addEventListener("input", () => {
    input.value = grouped(input.value);
    flag(verdict(input.value) === "mistyped" ? t("key.mistyped") : "");
  });
  let key = crypto.randomUUID(); // one Idempotency-Key per key typed: a double click redeems once
  let keyFor = "";
  const form = h(
    "form",
    {
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        replace(messages);
        const state = verdict(input.value);
        if (state !== "complete") {
          flag(state === "mistyped" ? t("key.mistyped") : t("key.incomplete", { count: symbols(input.value).length }));
          input.focus();
          return;
        }
        if (keyFor !== input.value) {
          key = crypto.randomUUID();
          keyFor = input.value;
        }
        try {
          const result = await api.post(`/orgs/${ctx.org.org_id}/redemptions`, { license_key: input.value }, { key });
          const catalog = await api.get("/products");
          const product = catalog.products.find((p) => p.product_id === result.product_id)?.name || result.product_id;
          input.value = "";
          await reload(
            notice(
              "success",
              t("wallet.redeemed", { licenses: result.licenses, product, consumed: result.consumed, toWallet: result.added_to_wallet }),
            ),
          );
        } catch (error) {
          const text = keyRefusal(error, ctx.problemText);
          replace(messages, notice("error", text));
          if (error.field === "license_key") flag(text);
        }
      },
    },
    h("h2", {}, t("wallet.redeemTitle")),
    h("p", { class: "notice notice-warning" }, h("strong", {}, "⚠ "), t("wallet.warning")),
    field(t("wallet.key"), input, t("wallet.keyHint")),
    problem,
    h("button", { type: "submit" }, t("wallet.redeem")),
  );
  return form;
}

export async function walletPage(page, ctx) {
  const messages = h("div", { class: "messages" });
  const holder = h("div", {});
  const reload = async (message = null) => {
    const wallet = await api.get(`/orgs/${ctx.org.org_id}/wallet`);
    replace(holder, table(wallet.products));
    replace(messages, message);
  };
  replace(
    page,
    h("h1", {}, t("wallet.title")),
    h("p", {}, t("wallet.intro")),
    messages,
    holder,
    ctx.org.role === "viewer" ? null : redeemForm(ctx, messages, reload),
  );
  await reload();
}
