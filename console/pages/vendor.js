// Vendor staff: issue a batch of keys (shown once: copy or download them now) and revoke a key.

import * as api from "../api.js";
import { csv, download, field, h, notice, replace } from "../dom.js";
import { t } from "../i18n.js";

export async function vendorPage(page, ctx) {
  const catalog = await api.get("/products");
  const messages = h("div", { class: "messages" });
  const issued = h("div", {});
  const product = h("select", { name: "product_id" }, catalog.products.map((p) => h("option", { value: p.product_id }, p.name)));
  const licenses = h("input", { type: "number", name: "licenses", min: 1, max: 10000, value: 5, inputmode: "numeric" });
  const count = h("input", { type: "number", name: "count", min: 1, max: 50, value: 1, inputmode: "numeric" });

  const showBatch = (batch) => {
    const lines = batch.keys.map((k) => k.license_key).join("\n");
    const copied = h("span", { role: "status" });
    replace(
      issued,
      notice("warning", t("vendor.shownOnce")),
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, t("vendor.title")),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("vendor.key")), h("th", { scope: "col" }, t("vendor.keyId")))),
        h(
          "tbody",
          {},
          batch.keys.map((k) => h("tr", {}, h("td", { class: "license-key" }, k.license_key), h("td", { class: "mono" }, k.key_id))),
        ),
      ),
      h(
        "p",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: async () => {
              await navigator.clipboard.writeText(lines);
              copied.textContent = t("vendor.copied");
            },
          },
          t("vendor.copy"),
        ),
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: () =>
              download(
                `${batch.batch_id}.csv`,
                csv([["license_key", "key_id", "product_id", "licenses"], ...batch.keys.map((k) => [k.license_key, k.key_id, batch.product_id, batch.licenses])]),
              ),
          },
          t("vendor.download"),
        ),
        copied,
      ),
    );
  };

  const issue = h(
    "form",
    {
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        replace(messages);
        try {
          const batch = await api.post("/admin/license-keys", {
            product_id: product.value,
            licenses: Number(licenses.value),
            count: Number(count.value),
          });
          showBatch(batch);
        } catch (error) {
          replace(messages, notice("error", error.status === 403 ? t("vendor.notVendor") : error.field ? error.message : ctx.problemText(error)));
        }
      },
    },
    h("h2", {}, t("vendor.issue")),
    field(t("vendor.product"), product),
    h("div", { class: "inline" }, field(t("vendor.licenses"), licenses), field(t("vendor.count"), count)),
    h("button", { type: "submit" }, t("vendor.issueSubmit")),
  );

  const keyId = h("input", { type: "text", name: "key_id", spellcheck: "false", autocomplete: "off", class: "mono" });
  const revoke = h(
    "form",
    {
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const key = await api.post(`/admin/license-keys/${encodeURIComponent(keyId.value.trim())}/revoke`);
          keyId.value = "";
          replace(messages, notice("success", t("vendor.revoked", { last5: key.last5 })));
        } catch (error) {
          replace(messages, notice("error", ctx.problemText(error)));
        }
      },
    },
    h("h2", {}, t("vendor.revoke")),
    field(t("vendor.keyId"), keyId),
    h("button", { type: "submit", class: "danger" }, t("vendor.revokeSubmit")),
  );
  replace(page, h("h1", {}, t("vendor.title")), messages, issue, issued, revoke);
}
