// Where to buy licenses: resellers for a country, preselected from the browser's language region
// (sv-SE -> SE), changeable.

import * as api from "../api.js";
import { field, h, replace } from "../dom.js";
import { country, t } from "../i18n.js";

function browserCountry() {
  for (const tag of navigator.languages || [navigator.language || ""]) {
    const region = tag.split("-")[1];
    if (region && /^[A-Za-z]{2}$/.test(region)) return region.toUpperCase();
  }
  return null;
}

export async function buyPage(page, _ctx) {
  const everyone = await api.get("/resellers");
  const codes = [...new Set(everyone.resellers.flatMap((r) => r.countries))].sort((a, b) => country(a).localeCompare(country(b)));
  const initial = browserCountry();
  const select = h(
    "select",
    { name: "country" },
    codes.map((code) => h("option", { value: code, selected: code === initial }, country(code))),
  );
  if (initial && !codes.includes(initial)) select.prepend(h("option", { value: initial, selected: true }, country(initial)));
  const list = h("div", { "aria-live": "polite" });
  const show = async () => {
    const found = await api.get(`/resellers?country=${encodeURIComponent(select.value)}`);
    replace(
      list,
      found.resellers.length
        ? h(
            "ul",
            { class: "resellers" },
            found.resellers.map((r) =>
              h(
                "li",
                {},
                h("h2", {}, r.name),
                h("p", {}, h("a", { href: r.website, rel: "noopener noreferrer", target: "_blank" }, `${t("buy.website")}: ${r.website}`)),
                r.email ? h("p", {}, h("a", { href: `mailto:${r.email}` }, `${t("buy.email")}: ${r.email}`)) : null,
                r.phone ? h("p", {}, `${t("buy.phone")}: `, h("a", { href: `tel:${r.phone.replace(/\s/g, "")}` }, r.phone)) : null,
              ),
            ),
          )
        : h("p", { class: "empty" }, t("buy.none")),
    );
  };
  select.addEventListener("change", show);
  replace(page, h("h1", {}, t("buy.title")), h("p", {}, t("buy.intro")), field(t("buy.country"), select), list);
  await show();
}
