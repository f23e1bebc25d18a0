// The Activate wizard, in the manual's steps: select the software -> Next -> accept its terms
// (with their version) -> Next -> review the summary (the API's dry run) -> Finish, then back to
// the Overview.

import * as api from "../api.js";
import { h, notice, replace } from "../dom.js";
import { date, number, t } from "../i18n.js";

function steps(n) {
  return h("p", { class: "step" }, t("activate.step", { n }));
}

function buttons(...items) {
  return h("div", { class: "wizard-buttons" }, items);
}

export async function activatePage(page, ctx) {
  const org = ctx.org;
  const [overview, catalog] = await Promise.all([api.get(`/orgs/${org.org_id}/overview`), api.get("/products")]);
  const activated = new Set(overview.products.filter((p) => p.subscription).map((p) => p.product_id));
  const available = catalog.products.filter((p) => !activated.has(p.product_id));
  const state = { product: null, accepted: false, key: crypto.randomUUID() };
  const errors = h("div", {});
  const body = h("div", {});
  replace(page, h("h1", {}, t("activate.title")), errors, body);

  const selectStep = () => {
    replace(errors);
    if (!available.length) return replace(body, h("p", {}, t("activate.nothing")));
    const radios = available.map((product, i) =>
      h(
        "div",
        { class: "choice" },
        h("input", { type: "radio", name: "product", id: `product-${i}`, value: product.product_id, checked: state.product?.product_id === product.product_id }),
        h("label", { for: `product-${i}` }, product.name, h("span", { class: "muted block" }, product.description)),
      ),
    );
    const form = h(
      "form",
      {
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          const picked = form.querySelector("input[name=product]:checked");
          if (!picked) return replace(errors, notice("error", t("activate.select")));
          state.product = available.find((p) => p.product_id === picked.value);
          termsStep();
        },
      },
      steps(1),
      h("fieldset", {}, h("legend", {}, t("activate.select")), radios),
      buttons(h("button", { type: "submit" }, t("activate.next"))),
    );
    replace(body, form);
    form.querySelector("input")?.focus();
  };

  const termsStep = () => {
    replace(errors);
    const product = state.product;
    const accept = h("input", { type: "checkbox", id: "accept", checked: state.accepted });
    const form = h(
      "form",
      {
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          state.accepted = accept.checked;
          if (!accept.checked) {
            accept.setAttribute("aria-invalid", "true");
            replace(errors, notice("error", t("activate.mustAccept")));
            accept.focus();
            return;
          }
          await summaryStep();
        },
      },
      steps(2),
      h(
        "fieldset",
        {},
        h("legend", {}, t("activate.terms")),
        h("p", { class: "terms" }, t("activate.termsText", { product: product.name, version: product.terms_version })),
        h("div", { class: "checkbox" }, accept, h("label", { for: "accept" }, t("activate.accept", { product: product.name, version: product.terms_version }))),
      ),
      buttons(
        h("button", { type: "button", class: "secondary", onclick: selectStep }, t("activate.back")),
        h("button", { type: "submit" }, t("activate.next")),
      ),
    );
    replace(body, form);
    accept.focus();
  };

  const activation = (dryRun) => ({
    product_id: state.product.product_id,
    accept_terms: true,
    terms_version: state.product.terms_version,
    dry_run: dryRun,
  });

  const summaryStep = async () => {
    replace(errors);
    let preview;
    try {
      preview = await api.post(`/orgs/${org.org_id}/activations`, activation(true));
    } catch (error) {
      return replace(errors, notice("error", ctx.problemText(error)));
    }
    const sub = preview.product.subscription;
    const row = (label, value) => [h("dt", {}, label), h("dd", {}, value)];
    const form = h(
      "form",
      {
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            await api.post(`/orgs/${org.org_id}/activations`, activation(false), { key: state.key });
            ctx.go(`#/orgs/${org.org_id}/overview`);
          } catch (error) {
            replace(errors, notice("error", ctx.problemText(error)));
          }
        },
      },
      steps(3),
      h(
        "fieldset",
        {},
        h("legend", {}, t("activate.summary")),
        h(
          "dl",
          { class: "figures" },
          row(t("activate.summaryProduct"), `${state.product.name} (${state.product.terms_version})`),
          row(t("activate.summaryPeriod"), t("overview.periodRange", { start: date(sub.period_start), end: date(sub.period_end) })),
          row(t("activate.summaryGrace"), date(sub.grace_ends_at)),
          row(t("activate.summaryDevices"), number(preview.product.devices)),
          row(t("activate.summaryCovered"), number(preview.covered_from_wallet)),
          row(t("activate.summaryNeeded"), number(preview.still_needed)),
        ),
      ),
      buttons(
        h("button", { type: "button", class: "secondary", onclick: termsStep }, t("activate.back")),
        h("button", { type: "submit" }, t("activate.finish")),
      ),
    );
    replace(body, form);
    form.querySelector("button[type=submit]").focus();
  };

  selectStep();
}
