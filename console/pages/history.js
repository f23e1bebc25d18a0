// History: who did what and when, with the figures, newest first; "Load more"; a filter by
// product and action over what is loaded; and a CSV export of the whole history.

import * as api from "../api.js";
import { csv, download, field, h, replace } from "../dom.js";
import { dateTime, t } from "../i18n.js";

const ACTIONS = [
  "org_created",
  "member_added",
  "member_role_changed",
  "member_removed",
  "trial_started",
  "activated",
  "usage_changed",
  "key_redeemed",
  "renewed",
  "system_registered",
  "system_removed",
];

export function details(e) {
  const parts = [];
  if (e.system_name) parts.push(t("details.system", { name: e.system_name }));
  if (e.member_email) parts.push(t("details.member", { email: e.member_email, role: e.role ? t(`role.${e.role}`) : "" }));
  if (e.terms_version) parts.push(t("details.terms", { version: e.terms_version }));
  if (e.devices_before !== null && e.devices_before !== undefined) {
    parts.push(t("details.devices", { before: e.devices_before, after: e.devices_after }));
  }
  if (e.licenses) parts.push(t("details.key", { licenses: e.licenses, last5: e.key_last5 }));
  if (e.consumed) parts.push(t("details.consumed", { consumed: e.consumed }));
  if (e.from_wallet) parts.push(t("details.fromWallet", { count: e.from_wallet }));
  if (e.to_wallet) parts.push(t("details.toWallet", { count: e.to_wallet }));
  if (e.wallet_after !== null && e.wallet_after !== undefined) parts.push(t("details.walletAfter", { count: e.wallet_after }));
  return parts.join(", ");
}

function who(e) {
  if (e.actor === "system") return t("history.system");
  if (e.actor.startsWith("system:") && e.system_name) return e.system_name;
  return e.actor;
}

export async function historyPage(page, ctx) {
  const path = `/orgs/${ctx.org.org_id}/history`;
  const catalog = await api.get("/products");
  const names = Object.fromEntries(catalog.products.map((p) => [p.product_id, p.name]));
  const productName = (id) => (id ? names[id] || id : "");
  const loaded = [];
  let cursor = null;

  const productFilter = h(
    "select",
    { name: "product" },
    h("option", { value: "" }, t("history.all")),
    catalog.products.map((p) => h("option", { value: p.product_id }, p.name)),
  );
  const actionFilter = h(
    "select",
    { name: "action" },
    h("option", { value: "" }, t("history.all")),
    ACTIONS.map((a) => h("option", { value: a }, t(`action.${a}`))),
  );
  const body = h("tbody", {});
  const more = h("button", { type: "button", class: "secondary" }, t("history.loadMore"));
  const empty = h("p", { class: "empty" }, t("history.empty"));

  const show = () => {
    const rows = loaded.filter(
      (e) => (!productFilter.value || e.product_id === productFilter.value) && (!actionFilter.value || e.action === actionFilter.value),
    );
    replace(
      body,
      rows.map((e) =>
        h(
          "tr",
          {},
          h("td", {}, h("time", { datetime: e.at }, dateTime(e.at))),
          h("td", {}, who(e)),
          h("td", {}, t(`action.${e.action}`)),
          h("td", {}, productName(e.product_id)),
          h("td", {}, details(e)),
        ),
      ),
    );
    empty.hidden = rows.length > 0;
    more.hidden = cursor === null;
  };
  const loadMore = async () => {
    const query = new URLSearchParams({ limit: "25" });
    if (cursor) query.set("cursor", cursor);
    const page_ = await api.get(`${path}?${query}`);
    loaded.push(...page_.events);
    cursor = page_.next_cursor;
    show();
  };
  more.addEventListener("click", loadMore);
  productFilter.addEventListener("change", show);
  actionFilter.addEventListener("change", show);

  const exportCsv = async () => {
    const events = await api.all(path, "events");
    const header = ["at", "actor", "action", "product", "details", "consumed", "from_wallet", "to_wallet", "wallet_after", "licensed_after"];
    const rows = events.map((e) => [
      e.at,
      e.actor,
      e.action,
      e.product_id || "",
      details(e),
      e.consumed,
      e.from_wallet,
      e.to_wallet,
      e.wallet_after,
      e.licensed_after,
    ]);
    download(`history-${ctx.org.org_id}.csv`, csv([header, ...rows]));
  };

  replace(
    page,
    h("h1", {}, t("history.title")),
    h("p", {}, t("history.intro")),
    h(
      "div",
      { class: "filters" },
      field(t("history.filterProduct"), productFilter),
      field(t("history.filterAction"), actionFilter),
      h("button", { type: "button", class: "secondary", onclick: exportCsv }, t("history.export")),
    ),
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, t("history.title")),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            [t("history.when"), t("history.who"), t("history.what"), t("history.product"), t("history.details")].map((c) =>
              h("th", { scope: "col" }, c),
            ),
          ),
        ),
        body,
      ),
    ),
    empty,
    more,
  );
  await loadMore();
}
