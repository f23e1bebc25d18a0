// Members (owners only): list, add with a role, change a role, remove. The last-owner rule is
// explained when it refuses.

import * as api from "../api.js";
import { field, h, notice, replace } from "../dom.js";
import { date, t } from "../i18n.js";

const ROLES = ["viewer", "admin", "owner"];

function roleSelect(selected, label = null) {
  return h(
    "select",
    { name: "role", "aria-label": label },
    ROLES.map((r) => h("option", { value: r, selected: r === selected }, t(`role.${r}`))),
  );
}

function refusal(error, email, ctx) {
  if (error.code === "last_owner") return t("members.lastOwner");
  if (error.code === "already_member") return t("members.already", { email });
  return error.field === "email" ? error.message : ctx.problemText(error);
}

export async function membersPage(page, ctx) {
  const path = `/orgs/${ctx.org.org_id}/members`;
  const messages = h("div", { class: "messages" });
  const holder = h("div", { class: "table-scroll" });

  const change = async (email, role) => {
    try {
      await api.post(path, { email, role });
      await reload(notice("success", t("members.changed_ok", { email, role: t(`role.${role}`) })));
    } catch (error) {
      replace(messages, notice("error", refusal(error, email, ctx)));
    }
  };
  const remove = async (email) => {
    if (!window.confirm(t("members.confirmRemove", { email }))) return;
    try {
      await api.del(`${path}/${encodeURIComponent(email)}`);
      await reload(notice("success", t("members.removed_ok", { email })));
    } catch (error) {
      replace(messages, notice("error", refusal(error, email, ctx)));
    }
  };
  const row = (m) => {
    const select = roleSelect(m.role, t("members.newRole", { email: m.email }));
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, m.email),
      h("td", {}, t(`role.${m.role}`)),
      h("td", {}, date(m.added_at)),
      h(
        "td",
        { class: "row-actions" },
        select,
        h("button", { type: "button", class: "secondary", onclick: () => change(m.email, select.value) }, t("members.changeRole")),
        h("button", { type: "button", class: "danger", onclick: () => remove(m.email) }, t("members.remove")),
      ),
    );
  };
  const reload = async (message = null) => {
    const { members } = await api.get(path);
    replace(
      holder,
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, t("members.title")),
        h(
          "thead",
          {},
          h("tr", {}, [t("members.email"), t("members.role"), t("members.added"), t("members.actions")].map((c) => h("th", { scope: "col" }, c))),
        ),
        h("tbody", {}, members.map(row)),
      ),
    );
    replace(messages, message);
  };

  const email = h("input", { type: "email", name: "email", autocomplete: "off", spellcheck: "false", required: true });
  const role = roleSelect("viewer");
  const add = h(
    "form",
    {
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const member = await api.post(path, { email: email.value, role: role.value });
          email.value = "";
          await reload(notice("success", t("members.added_ok", { email: member.email, role: t(`role.${member.role}`) })));
        } catch (error) {
          email.setAttribute("aria-invalid", "true");
          replace(messages, notice("error", refusal(error, email.value, ctx)));
        }
      },
    },
    h("h2", {}, t("members.add")),
    h("div", { class: "inline" }, field(t("members.email"), email), field(t("members.role"), role)),
    h("button", { type: "submit" }, t("members.addSubmit")),
  );
  replace(page, h("h1", {}, t("members.title")), messages, holder, add);
  await reload();
}
