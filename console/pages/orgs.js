// Choose the organization (the manual's first step), with its warning: licenses cannot be
// transferred between organizations. Creating one is here too.

import * as api from "../api.js";
import { field, h, notice, replace } from "../dom.js";
import { t } from "../i18n.js";

export async function orgsPage(page, ctx) {
  const orgs = await ctx.myOrgs(true);
  const errors = h("div", {});
  const choices = orgs.map((org, i) =>
    h(
      "div",
      { class: "choice" },
      h("input", { type: "radio", name: "org", id: `org-${i}`, value: org.org_id, checked: orgs.length === 1 }),
      h("label", { for: `org-${i}` }, org.name, " ", h("span", { class: "muted" }, `(${t("orgs.role", { role: t(`role.${org.role}`) })})`)),
    ),
  );
  const choose = h(
    "form",
    {
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        const picked = choose.querySelector("input[name=org]:checked");
        if (!picked) {
          replace(errors, notice("error", t("orgs.pick")));
          return;
        }
        ctx.go(`#/orgs/${picked.value}/overview`);
      },
    },
    h("fieldset", {}, h("legend", {}, t("orgs.legend")), choices.length ? choices : h("p", {}, t("orgs.none"))),
    h("p", { class: "notice notice-warning" }, h("strong", {}, "⚠ "), t("orgs.warning")),
    orgs.length ? h("button", { type: "submit" }, t("orgs.next")) : null,
  );
  const name = h("input", { type: "text", name: "name", maxlength: 200, required: true, autocomplete: "organization" });
  const create = h(
    "form",
    {
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        replace(errors);
        try {
          const org = await api.post("/orgs", { name: name.value });
          await ctx.myOrgs(true);
          ctx.go(`#/orgs/${org.org_id}/overview`);
        } catch (error) {
          name.setAttribute("aria-invalid", "true");
          replace(errors, notice("error", error.field === "name" ? error.message : ctx.problemText(error)));
          name.focus();
        }
      },
    },
    h("h2", {}, t("orgs.create")),
    field(t("orgs.name"), name),
    h("button", { type: "submit", class: "secondary" }, t("orgs.createSubmit")),
  );
  replace(page, h("h1", {}, t("orgs.title")), h("p", {}, t("orgs.intro")), errors, choose, create);
}
