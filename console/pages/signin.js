// Sign in. Locally: an e-mail (and "vendor staff") gets a token from the dev server. In AWS: the
// Cognito managed login.

import * as auth from "../auth.js";
import { field, h, notice, replace } from "../dom.js";
import { t } from "../i18n.js";

export async function signinPage(page, ctx) {
  const errors = h("div", {});
  if (ctx.config.mode === "cognito") {
    replace(
      page,
      h("h1", {}, t("signin.title")),
      h("p", {}, t("signin.intro")),
      h("button", { type: "button", onclick: () => auth.cognitoSignIn(ctx.config, "customer") }, t("signin.cognito")),
      ctx.config.vendor
        ? h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => auth.cognitoSignIn(ctx.config, "vendor") }, t("signin.cognitoVendor")))
        : null,
    );
    return;
  }
  const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true, spellcheck: "false" });
  const vendor = h("input", { type: "checkbox", name: "vendor", id: "vendor" });
  const form = h(
    "form",
    {
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        replace(errors);
        if (!email.checkValidity() || !email.value.includes("@")) {
          email.setAttribute("aria-invalid", "true");
          replace(errors, notice("error", t("signin.emailInvalid")));
          email.focus();
          return;
        }
        try {
          const session = await auth.devSignIn(email.value.trim(), vendor.checked);
          ctx.go(session.vendor ? "#/vendor" : "#/orgs");
        } catch (error) {
          replace(errors, notice("error", t("error.generic", { detail: error.message })));
        }
      },
    },
    field(t("signin.email"), email),
    h("div", { class: "checkbox" }, vendor, h("label", { for: "vendor" }, t("signin.vendor"))),
    h("button", { type: "submit" }, t("signin.submit")),
  );
  replace(page, h("h1", {}, t("signin.title")), h("p", {}, t("signin.intro")), errors, form);
}
