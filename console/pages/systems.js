// Installed systems: the org's systems (devices, last seen, online or offline, active or removed),
// a registration code for new software (admins), a system file from an offline site turned into
// its license file (admins), and removing a system (admins).

import * as api from "../api.js";
import { download, field, h, notice, replace } from "../dom.js";
import { dateTime, number, t } from "../i18n.js";

function table(systems, names, ctx, remove) {
  if (!systems.length) return h("p", { class: "empty" }, t("systems.empty"));
  const admin = ctx.org.role !== "viewer";
  const headers = ["systems.name", "systems.product", "systems.kind", "systems.devices", "systems.lastSeen", "systems.status"];
  if (admin) headers.push("systems.actions");
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, t("systems.title")),
      h("thead", {}, h("tr", {}, headers.map((k) => h("th", { scope: "col" }, t(k))))),
      h(
        "tbody",
        {},
        systems.map((s) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, s.name),
            h("td", {}, names[s.product_id] || s.product_id),
            h("td", {}, t(`systems.kind.${s.kind}`)),
            h("td", { class: "num" }, number(s.devices)),
            h("td", {}, dateTime(s.last_seen_at), s.stale ? h("strong", { class: "stale" }, ` (${t("systems.stale")})`) : null),
            h("td", {}, t(`systems.status.${s.status}`)),
            admin
              ? h(
                  "td",
                  {},
                  s.status === "active"
                    ? h("button", { type: "button", class: "danger", onclick: () => remove(s) }, t("systems.remove"))
                    : null,
                )
              : null,
          ),
        ),
      ),
    ),
  );
}

export async function systemsPage(page, ctx) {
  const base = `/orgs/${ctx.org.org_id}/systems`;
  const catalog = await api.get("/products");
  const names = Object.fromEntries(catalog.products.map((p) => [p.product_id, p.name]));
  const messages = h("div", { class: "messages" });
  const holder = h("div", {});
  const reload = async (message = null) => {
    const { systems } = await api.get(base);
    replace(holder, table(systems, names, ctx, remove));
    replace(messages, message);
  };
  const remove = async (system) => {
    if (!window.confirm(t("systems.confirmRemove", { name: system.name }))) return;
    try {
      await api.del(`${base}/${encodeURIComponent(system.system_id)}`);
      await reload(notice("success", t("systems.removed", { name: system.name })));
    } catch (error) {
      replace(messages, notice("error", ctx.problemText(error)));
    }
  };

  const codeBox = h("div", { "aria-live": "polite" });
  const createCode = async () => {
    try {
      const issued = await api.post(`${base}/registration-codes`);
      replace(
        codeBox,
        h("p", { class: "notice notice-warning" }, h("strong", { class: "license-key" }, t("systems.code", { code: issued.code }))),
        h("p", {}, t("systems.codeOnce", { expires: dateTime(issued.expires_at) })),
      );
    } catch (error) {
      replace(messages, notice("error", ctx.problemText(error)));
    }
  };

  const file = h("input", { type: "file", accept: "application/json,.json", name: "system_file" });
  const result = h("div", { "aria-live": "polite" });
  const upload = h(
    "form",
    {
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        replace(result);
        let request;
        try {
          request = JSON.parse(await file.files[0].text());
        } catch {
          replace(result, notice("error", t("systems.badFile")));
          return;
        }
        try {
          const license = await api.post(`${base}/offline`, request);
          const name = request.name || request.system_id;
          replace(
            result,
            notice("success", t("systems.licenseReady", { name })),
            h(
              "button",
              {
                type: "button",
                class: "secondary",
                onclick: () => download(`license-${request.system_id}.json`, JSON.stringify(license, null, 2), "application/json"),
              },
              t("systems.downloadLicense"),
            ),
          );
          await reload();
        } catch (error) {
          replace(result, notice("error", error.field ? error.message : ctx.problemText(error)));
        }
      },
    },
    h("h2", {}, t("systems.offlineTitle")),
    h("p", {}, t("systems.offlineIntro")),
    field(t("systems.file"), file),
    h("button", { type: "submit", class: "secondary" }, t("systems.upload")),
    result,
  );

  const admin = ctx.org.role !== "viewer";
  replace(
    page,
    h("h1", {}, t("systems.title")),
    h("p", {}, t("systems.intro")),
    messages,
    holder,
    admin ? h("h2", {}, t("systems.codeTitle")) : null,
    admin ? h("button", { type: "button", onclick: createCode }, t("systems.createCode")) : null,
    admin ? codeBox : null,
    admin ? upload : null,
  );
  await reload();
}
