"""The web console in a real browser (Chromium, driven by Playwright), against the dev server.

The tests read like the manual: one task each, controls found by role and name as a screen reader
finds them, in English and in French. Every page is checked with axe-core (no serious or critical
violation) and photographed; `make screenshots` keeps the pictures in docs/screenshots/.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from license_manager.domain.license_keys import ALPHABET, display, from_random, is_valid, normalize
from tests.e2e.conftest import token_for
from tests.helpers import http, unique_email
from tools.template import ROOT, load

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SHOTS = Path(os.environ["SCREENSHOTS"]) if os.environ.get("SCREENSHOTS") else None

WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "signin": "Sign in",
        "signin_button": "Sign in",
        "email": "E-mail",
        "choose": "Choose the organization",
        "org_name": "Organization name",
        "create": "Create organization",
        "warning": "licenses cannot be transferred between organizations",
        "next": "Next",
        "overview": "Overview",
        "activate": "Activate",
        "select": "Select the software",
        "accept": re.compile(r"I accept the terms and conditions of Camera Station Pro \(version 2026-01\)"),
        "summary": "Summary",
        "finish": "Finish",
        "status": "License status:",
        "licensed": "Licensed",
        "grace": "Grace period",
        "devices": "Number of devices (Camera Station Pro)",
        "save_devices": "Save devices",
        "wallet": "Wallet",
        "key": "License key",
        "redeem": "Redeem license key",
        "redeemed": "Redeemed 5 licenses of Camera Station Pro: 3 now cover devices, 2 went to the wallet.",
        "history": "History",
        "redeemed_action": "License key redeemed",
        "renewed_action": "Renewed",
        "buy": "Where to buy licenses",
        "country": "Country",
        "mistyped": "This key looks mistyped",
        "taken": "This license key has already been redeemed.",
        "members": "Members",
        "last_owner": "always keeps at least one owner",
        "language": "Language",
        "days_left": "days left",
    },
    "fr": {
        "signin": "Connexion",
        "signin_button": "Se connecter",
        "email": "E-mail",
        "choose": "Sélectionner l'organisation",
        "org_name": "Nom de l'organisation",
        "create": "Créer l'organisation",
        "warning": "impossible de transférer des licences entre des organisations",
        "next": "Suivant",
        "overview": "Aperçu",
        "activate": "Activer",
        "select": "Sélectionnez le logiciel",
        "accept": re.compile(r"J'accepte les conditions générales de Camera Station Pro \(version 2026-01\)"),
        "summary": "Récapitulatif",
        "finish": "Terminer",
        "status": "Statut de licence :",
        "licensed": "Sous licence",
        "grace": "Période de grâce",
        "devices": "Nombre d'appareils (Camera Station Pro)",
        "save_devices": "Enregistrer les appareils",
        "wallet": "Portefeuille",
        "key": "Clé de licence",
        "redeem": "Échanger la clé de licence",
        "redeemed": (
            "5 licences échangées pour Camera Station Pro : 3 couvrent maintenant des appareils, "
            "2 sont allées au portefeuille."
        ),
        "history": "Historique",
        "redeemed_action": "Clé de licence échangée",
        "renewed_action": "Renouvelé",
        "buy": "Où acheter des licences",
        "country": "Pays",
        "mistyped": "Cette clé semble mal saisie",
        "taken": "Cette clé de licence a déjà été échangée.",
        "members": "Membres",
        "last_owner": "garde toujours au moins un propriétaire",
        "language": "Langue",
        "days_left": "jours restants",
    },
}
LOCALES = {"en": "en-GB", "fr": "fr-FR"}


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    yield browser
    browser.close()


class Console:
    """One user's browser tab on the console, failing the test on any script error."""

    def __init__(self, browser: Browser, base_url: str, lang: str, width: int = 1100) -> None:
        self.context: BrowserContext = browser.new_context(
            locale=LOCALES[lang], timezone_id="UTC", viewport={"width": width, "height": 900}
        )
        self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
        self.page: Page = self.context.new_page()
        self.base_url = base_url
        self.lang = lang
        self.words = WORDS[lang]
        self.errors: list[str] = []
        self.page.on("console", self._console_message)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _console_message(self, message: Any) -> None:
        # refusals the console shows in words (4xx) are logged by Chromium as failed loads: not errors
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(message.text)

    def open(self, path: str = "/") -> None:
        self.page.goto(self.base_url + path)

    def sign_in(self, email: str, vendor: bool = False) -> None:
        self.open()
        page = self.page
        expect(page.get_by_role("heading", name=self.words["signin"])).to_be_visible()
        page.get_by_label(self.words["email"], exact=True).fill(email)
        if vendor:
            page.get_by_role("checkbox").check()
        page.get_by_role("button", name=self.words["signin_button"]).click()

    def check(self, name: str) -> None:
        """Accessibility (no serious or critical violation) and a picture of the page."""
        results = Axe().run(self.page)
        bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in bad]
        if SHOTS is not None:
            SHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SHOTS / f"{self.lang}-{name}.png"), full_page=True)
        assert not self.errors, self.errors

    def close(self) -> None:
        assert not self.errors, self.errors
        self.context.close()


@pytest.fixture
def console(browser: Browser, base_url: str) -> Iterator[Any]:
    opened: list[Console] = []

    def make(lang: str = "en", width: int = 1100) -> Console:
        c = Console(browser, base_url, lang, width)
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()


def issue_key(base_url: str, licenses: int) -> str:
    vendor = token_for(base_url, "vera@vendor.example", ["vendor-admin"])
    body = {"product_id": "camera-station-pro", "licenses": licenses, "count": 1}
    reply = http("POST", f"{base_url}/admin/license-keys", body, vendor)
    assert reply.status == 201, reply.body
    return str(reply.body["keys"][0]["license_key"])


def create_org(c: Console, name: str) -> None:
    page, w = c.page, c.words
    expect(page.get_by_role("heading", name=w["choose"])).to_be_visible()
    page.get_by_label(w["org_name"]).fill(name)
    page.get_by_role("button", name=w["create"]).click()
    expect(page.get_by_role("heading", name=w["overview"])).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_manuals_journey(console: Any, base_url: str, dev_clock: Any, lang: str) -> None:
    dev_clock("2027-01-15T10:00:00Z")
    c: Console = console(lang)
    page, w = c.page, c.words
    admin = unique_email("admin")
    # Sign in, create and choose the organization, heeding the warning
    c.sign_in(admin)
    expect(page.get_by_role("heading", name=w["choose"])).to_be_visible()
    c.check("choose-organization")
    create_org(c, f"Acme {lang}")
    page.get_by_role("link", name=w["buy"]).first.wait_for()
    page.goto(f"{c.base_url}/#/orgs")
    expect(page.get_by_text(w["warning"])).to_be_visible()
    page.get_by_role("radio").first.check()
    page.get_by_role("button", name=w["next"]).click()
    expect(page.get_by_role("heading", name=w["overview"])).to_be_visible()
    c.check("overview-empty")
    # Activate: select the software -> Next -> accept the terms -> Next -> summary -> Finish
    page.get_by_role("button", name=w["activate"], exact=True).click()
    page.get_by_role("radio", name=re.compile("Camera Station Pro")).check()
    c.check("activate-select")
    page.get_by_role("button", name=w["next"]).click()
    page.get_by_role("checkbox", name=w["accept"]).check()
    c.check("activate-terms")
    page.get_by_role("button", name=w["next"]).click()
    expect(page.get_by_role("group", name=w["summary"])).to_be_visible()
    c.check("activate-summary")
    page.get_by_role("button", name=w["finish"]).click()
    card = page.get_by_role("region", name="Camera Station Pro")
    expect(card.get_by_text(f"{w['status']} {w['licensed']}")).to_be_visible()  # 0 devices: nothing to cover
    # Set the devices: 3 uncovered, in the grace period
    card.get_by_label(w["devices"]).fill("3")
    card.get_by_role("button", name=w["save_devices"]).click()
    card = page.get_by_role("region", name="Camera Station Pro")
    expect(card.get_by_text(f"{w['status']} {w['grace']}")).to_be_visible()
    expect(card.get_by_text(re.compile(f"30 {w['days_left']}"))).to_be_visible()
    c.check("overview")
    # Wallet: redeem a key a vendor issued, typed in lower case without dashes
    key = issue_key(base_url, 5)
    page.get_by_role("link", name=w["wallet"], exact=True).click()
    page.get_by_label(w["key"]).press_sequentially(key.replace("-", "").lower())
    expect(page.get_by_label(w["key"])).to_have_value(key)  # grouped as printed
    c.check("wallet")
    page.get_by_role("button", name=w["redeem"]).click()
    expect(page.get_by_role("status")).to_have_text(w["redeemed"])
    expect(page.get_by_role("row", name=re.compile("Camera Station Pro"))).to_contain_text("2")
    c.check("wallet-redeemed")
    # History: the redemption, with who did it
    page.get_by_role("link", name=w["history"], exact=True).click()
    row = page.get_by_role("row", name=re.compile(w["redeemed_action"]))
    expect(row).to_contain_text(admin)
    c.check("history")
    # Where to buy licenses, for the browser's country
    page.get_by_role("link", name=w["buy"], exact=True).click()
    expect(page.get_by_label(w["country"])).to_have_value("GB" if lang == "en" else "FR")
    c.check("where-to-buy")
    # A year later, the sweep renews from the wallet: the overview shows period 2, then history
    dev_clock("2028-01-15T10:05:00Z")
    assert http("POST", f"{base_url}/_dev/renewal-sweep").status == 200
    page.get_by_role("link", name=w["overview"], exact=True).click()
    card = page.get_by_role("region", name="Camera Station Pro")
    expect(card.get_by_text(f"{w['status']} {w['grace']}")).to_be_visible()  # 2 of 3 covered from the wallet
    page.get_by_role("link", name=w["history"], exact=True).click()
    expect(page.get_by_role("row", name=re.compile(w["renewed_action"])).first).to_be_visible()


def random_key() -> str:
    return display(from_random([secrets.randbelow(len(ALPHABET)) for _ in range(24)]))


def test_a_mistyped_key_is_flagged_before_anything_is_sent(console: Any) -> None:
    c: Console = console("en")
    c.sign_in(unique_email("admin"))
    create_org(c, "Typos")
    c.page.get_by_role("link", name="Wallet", exact=True).click()
    sent: list[str] = []
    c.page.on("request", lambda r: sent.append(r.url) if "/redemptions" in r.url else None)
    good = random_key()
    typo = good[:-1] + ("0" if good[-1] != "0" else "1")  # one symbol off: the check symbol catches it
    field = c.page.get_by_label("License key")
    field.fill(typo)
    field.dispatch_event("input")
    expect(c.page.get_by_text("This key looks mistyped")).to_be_visible()
    expect(field).to_have_attribute("aria-invalid", "true")
    c.page.get_by_role("button", name="Redeem license key").click()
    field.fill(typo[:11])  # 10 symbols and a dash
    field.dispatch_event("input")
    c.page.get_by_role("button", name="Redeem license key").click()
    expect(c.page.get_by_text("A license key has 25 characters; this one has 10.")).to_be_visible()
    assert sent == []


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_someone_elses_key_is_refused_in_words(console: Any, base_url: str, lang: str) -> None:
    key = issue_key(base_url, 2)
    owner = token_for(base_url, unique_email("first"))
    first_org = http("POST", f"{base_url}/orgs", {"name": "First"}, owner).body["org_id"]
    assert http("POST", f"{base_url}/orgs/{first_org}/redemptions", {"license_key": key}, owner).status == 201
    c: Console = console(lang)
    c.sign_in(unique_email("second"))
    create_org(c, "Second")
    c.page.get_by_role("link", name=c.words["wallet"], exact=True).click()
    c.page.get_by_label(c.words["key"]).fill(key)
    c.page.get_by_role("button", name=c.words["redeem"]).click()
    expect(c.page.get_by_role("alert")).to_have_text(c.words["taken"])


def test_a_viewer_is_offered_nothing_a_viewer_cannot_do(console: Any, base_url: str) -> None:
    owner, viewer = unique_email("owner"), unique_email("viewer")
    token = token_for(base_url, owner)
    org_id = http("POST", f"{base_url}/orgs", {"name": "Look only"}, token).body["org_id"]
    http("PUT", f"{base_url}/orgs/{org_id}/products/camera-station-pro/usage", {"devices": 2}, token)
    http("POST", f"{base_url}/orgs/{org_id}/members", {"email": viewer, "role": "viewer"}, token)
    c: Console = console("en")
    c.sign_in(viewer)
    c.page.get_by_role("radio").first.check()
    c.page.get_by_role("button", name="Next").click()
    expect(c.page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(c.page.get_by_role("region", name="Camera Station Pro")).to_be_visible()
    expect(c.page.get_by_role("button", name="Activate", exact=True)).to_have_count(0)
    expect(c.page.get_by_role("button", name="Save devices")).to_have_count(0)
    expect(c.page.get_by_role("link", name="Members")).to_have_count(0)
    c.page.get_by_role("link", name="Wallet", exact=True).click()
    expect(c.page.get_by_role("heading", name="Wallet")).to_be_visible()
    expect(c.page.get_by_role("button", name="Redeem license key")).to_have_count(0)


def test_owners_manage_members_and_the_last_owner_rule_is_explained(console: Any) -> None:
    c: Console = console("en")
    owner = unique_email("owner")
    c.sign_in(owner)
    create_org(c, "People")
    c.page.get_by_role("link", name="Members", exact=True).click()
    bob = unique_email("bob")
    c.page.get_by_label("E-mail", exact=True).fill(bob)
    c.page.get_by_label("Role", exact=True).select_option("admin")
    c.page.get_by_role("button", name="Add member").click()
    expect(c.page.get_by_role("status")).to_have_text(f"{bob} was added as admin.")
    c.check("members")
    c.page.get_by_label(f"New role of {owner}").select_option("viewer")
    c.page.get_by_role("row", name=re.compile(re.escape(owner))).get_by_role("button", name="Change role").click()
    expect(c.page.get_by_role("alert")).to_contain_text("always keeps at least one owner")


def test_vendor_staff_issue_keys_shown_once_and_revoke_one(console: Any) -> None:
    c: Console = console("en")
    c.sign_in("vera@vendor.example", vendor=True)
    expect(c.page.get_by_role("heading", name="License keys")).to_be_visible()
    c.page.get_by_label("Number of keys").fill("2")
    c.page.get_by_role("button", name="Issue keys").click()
    expect(c.page.get_by_text("These keys are shown this once")).to_be_visible()
    keys = c.page.locator("td.license-key").all_inner_texts()
    assert len(keys) == 2
    assert all(is_valid(normalize(k)) for k in keys)
    c.page.get_by_role("button", name="Copy keys").click()
    assert c.page.evaluate("navigator.clipboard.readText()") == "\n".join(keys)
    c.check("vendor")
    key_id = c.page.locator("td.mono").first.inner_text()
    c.page.get_by_label("Key id").fill(key_id)
    c.page.get_by_role("button", name="Revoke key").click()
    expect(c.page.get_by_text(f"Key …{keys[0][-5:]} is revoked.")).to_be_visible()


def test_the_check_symbol_is_the_servers(console: Any) -> None:
    c: Console = console("en")
    c.open()
    samples = [random_key() for _ in range(30)]
    typos = [k[:3] + ("Z" if k[3] != "Z" else "Y") + k[4:] for k in samples]
    swaps = [k[:6] + k[7] + k[6] + k[8:] for k in samples if k[6] != k[7]]
    cases = [*samples, *typos, *swaps, "7k3qf 9zp2m 4r8ta xw6dn b1cvp", "OIL00-11111-11111-11111-1111X"]
    verdicts = c.page.evaluate(
        "async (keys) => { const m = await import('/console/license-key.js'); return keys.map(m.verdict); }", cases
    )
    for key, verdict in zip(cases, verdicts, strict=True):
        try:
            server = "complete" if is_valid(normalize(key)) else "mistyped"
        except Exception:
            server = "mistyped"
        assert (verdict == "complete") == (server == "complete"), key


def test_usable_at_360_pixels_wide(console: Any, base_url: str) -> None:
    c: Console = console("fr", width=360)
    c.sign_in(unique_email("phone"))
    create_org(c, "Mobile")
    for link in ("Aperçu", "Portefeuille", "Historique", "Où acheter des licences"):
        c.page.get_by_role("link", name=link, exact=True).click()
        c.page.wait_for_load_state("networkidle")
        assert c.page.evaluate("document.documentElement.scrollWidth") <= 360, link
    c.check("mobile-where-to-buy")


def test_the_keyboard_alone_signs_in_and_the_language_switch_persists(console: Any) -> None:
    c: Console = console("en")
    c.open()
    page = c.page
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_label("Language").select_option("fr")
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    page.get_by_label("E-mail", exact=True).focus()
    page.keyboard.type(unique_email("keys"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Sélectionner l'organisation")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sélectionner l'organisation")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "fr"


def test_the_console_is_served_with_its_security_headers(base_url: str) -> None:
    reply = http("GET", f"{base_url}/")
    assert reply.status == 200
    assert "default-src 'self'" in reply.headers["content-security-policy"]
    assert reply.headers["x-frame-options"] == "DENY"
    assert (ROOT / "console" / "index.html").read_text() == reply.body
    assert http("GET", f"{base_url}/console/../template.yaml").status == 404


def test_the_cognito_sign_in_sends_the_pkce_challenge_of_rfc_7636(console: Any) -> None:
    c: Console = console("en")
    c.open()
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636, appendix B
    challenge = c.page.evaluate(
        "async (v) => { const m = await import('/console/auth.js'); return m.challenge(v); }", verifier
    )
    assert challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def _unsigned_id_token(claims: dict[str, Any]) -> str:
    """An ID token as the Cognito token endpoint returns it (the console reads, never verifies)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'kid': 'k'})}.{part(claims)}.c2ln"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_vendor_staff_sign_in_through_their_own_pool_and_sign_out_of_it(console: Any, base_url: str, lang: str) -> None:
    """In AWS customers and vendor staff have separate user pools: the console sends each to its own
    managed login, exchanges the code with that pool and signs out of that pool."""
    # the domains the template's CSP lets the page reach (the dev server serves that CSP)
    prefix = load()["Parameters"]["CognitoDomainPrefix"]["Default"]
    customers = f"{prefix}.auth.eu-north-1.amazoncognito.com"
    vendors = f"{prefix}-vendor.auth.eu-north-1.amazoncognito.com"
    customer = {"cognitoDomain": customers, "clientId": "customer-client"}
    vendor = {"cognitoDomain": vendors, "clientId": "vendor-client"}
    config = {"mode": "cognito", "apiUrl": base_url, "redirectUri": f"{base_url}/", **customer, "vendor": vendor}
    c: Console = console(lang)
    page = c.page
    visited: list[str] = []
    exchanged: list[dict[str, str]] = []

    def login_page(route: Any) -> None:
        visited.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>managed login</title>")

    def token_endpoint(route: Any) -> None:
        exchanged.append(dict(x.split("=", 1) for x in (route.request.post_data or "").split("&")))
        token = _unsigned_id_token(
            {"email": "vera@vendor.example", "cognito:groups": ["vendor-admin"], "exp": 4102444800}
        )
        route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps({"id_token": token}),
            headers={"access-control-allow-origin": "*"},
        )

    page.route("**/console/config.json", lambda route: route.fulfill(status=200, json=config))
    # API Gateway would verify the pool's token; here the dev server verifies its own for the same person
    real = token_for(base_url, "vera@vendor.example", ["vendor-admin"])

    def api(route: Any) -> None:
        route.continue_(headers={**route.request.headers, "authorization": f"Bearer {real}"})

    page.route(f"{base_url}/products", api)

    page.route(f"https://{customers}/**", login_page)
    page.route(f"https://{vendors}/oauth2/authorize**", login_page)
    page.route(f"https://{vendors}/oauth2/token", token_endpoint)
    page.route(f"https://{vendors}/logout**", login_page)
    words = {
        "en": ("Sign in with your account", "Vendor staff sign-in", "Sign out"),
        "fr": ("Se connecter avec votre compte", "Connexion du personnel de l'éditeur", "Se déconnecter"),
    }[lang]
    c.open()
    expect(page.get_by_role("button", name=words[0])).to_be_visible()
    page.get_by_role("button", name=words[1]).click()
    page.wait_for_url(f"https://{vendors}/**")
    query = dict(x.split("=", 1) for x in visited[-1].split("?", 1)[1].split("&"))
    assert query["client_id"] == "vendor-client"
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    # the managed login sends the browser back with a code and the state it was given
    page.goto(f"{base_url}/?code=the-code&state={query['state']}")
    expect(page.get_by_role("link", name=re.compile("License keys|Clés de licence"))).to_be_visible()
    assert exchanged
    assert exchanged[0]["client_id"] == "vendor-client"
    assert exchanged[0]["grant_type"] == "authorization_code"
    assert exchanged[0]["code"] == "the-code"
    page.get_by_role("button", name=words[2]).click()
    page.wait_for_url(f"https://{vendors}/logout**")
    assert "client_id=vendor-client" in visited[-1]
    assert not any(customers in url for url in visited)


def test_signing_out_forgets_the_token(console: Any) -> None:
    c: Console = console("en")
    c.sign_in(unique_email("leaver"))
    expect(c.page.get_by_role("heading", name="Choose the organization")).to_be_visible()
    c.page.get_by_role("button", name="Sign out").click()
    expect(c.page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert c.page.evaluate("sessionStorage.length") == 0
    assert c.page.evaluate("localStorage.getItem('license-manager.session')") is None


def test_every_refusal_of_a_key_is_said_in_words(console: Any, base_url: str) -> None:
    c: Console = console("fr")
    admin = unique_email("refused")
    c.sign_in(admin)
    create_org(c, "Refus")
    org_id = c.page.url.split("/orgs/")[1].split("/")[0]
    c.page.get_by_role("link", name="Portefeuille", exact=True).click()
    field = c.page.get_by_label("Clé de licence")
    redeem = c.page.get_by_role("button", name="Échanger la clé de licence")

    def attempt(key: str, words: str) -> None:
        field.fill(key)
        redeem.click()
        expect(c.page.get_by_role("alert")).to_contain_text(words)

    attempt(random_key(), "Aucune clé de licence ne correspond")
    own = issue_key(base_url, 1)
    token = token_for(base_url, admin)
    assert http("POST", f"{base_url}/orgs/{org_id}/redemptions", {"license_key": own}, token).status == 201
    attempt(own, "Votre organisation a déjà échangé cette clé le")  # its own key: the answer says when
    vendor = token_for(base_url, "vera@vendor.example", ["vendor-admin"])
    body = {"product_id": "camera-station-pro", "licenses": 1, "count": 1}
    withdrawn = http("POST", f"{base_url}/admin/license-keys", body, vendor).body["keys"][0]
    assert http("POST", f"{base_url}/admin/license-keys/{withdrawn['key_id']}/revoke", None, vendor).status == 200
    attempt(withdrawn["license_key"], "révoquée par l'éditeur")
    for _ in range(10):  # guesses fill the organization's window
        http("POST", f"{base_url}/orgs/{org_id}/redemptions", {"license_key": random_key()}, token)
    attempt(random_key(), "Trop d'essais infructueux pour cette organisation. Réessayez dans")


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_systems_are_registered_listed_licensed_offline_and_removed(
    console: Any, base_url: str, tmp_path: Path, lang: str
) -> None:
    words = {
        "en": ("Systems", "Create a registration code", "System file", "Upload system file", "Download license file"),
        "fr": (
            "Systèmes",
            "Créer un code d'enregistrement",
            "Fichier système",
            "Importer le fichier système",
            "Télécharger le fichier de licence",
        ),
    }[lang]
    nav, create, file_label, upload, download_label = words
    c: Console = console(lang)
    c.sign_in(unique_email("sites"))
    create_org(c, "Sites")
    page = c.page
    page.get_by_role("link", name=nav, exact=True).click()
    page.get_by_role("button", name=create).click()
    code = re.search(r"REG(-[0-9A-Z]{5}){4}", page.locator(".notice-warning").inner_text())
    assert code is not None
    # the software registers with the code and reports 2 devices
    body = {"code": code.group(0), "name": "Gate cameras", "product_id": "camera-station-pro"}
    registered = http("POST", f"{base_url}/systems/register", body).body
    credential = registered["credential"]
    http("PUT", f"{base_url}/systems/{registered['system_id']}/usage", {"devices": 2}, credential)
    page.reload()
    expect(page.get_by_role("row", name=re.compile("Gate cameras"))).to_contain_text("2")
    c.check("systems")
    # an offline site's system file becomes its license file
    system_file = tmp_path / "system-file.json"
    system_file.write_text(
        json.dumps(
            {
                "system_id": "off_" + secrets.token_hex(10),
                "name": "Harbour",
                "product_id": "camera-station-pro",
                "devices": 1,
                "created_at": "2026-11-29T10:00:00+00:00",
                "nonce": secrets.token_hex(8),
            }
        )
    )
    page.get_by_label(file_label).set_input_files(str(system_file))
    page.get_by_role("button", name=upload).click()
    with page.expect_download() as downloaded:
        page.get_by_role("button", name=download_label).click()
    assert "license" in json.loads(Path(downloaded.value.path()).read_text())
    expect(page.get_by_role("row", name=re.compile("Harbour"))).to_be_visible()
    # removing the registered system: its credential is refused from then on
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("row", name=re.compile("Gate cameras")).get_by_role("button").click()
    expect(page.get_by_role("status").filter(has_text="Gate cameras")).to_be_visible()
    assert http("PUT", f"{base_url}/systems/{registered['system_id']}/usage", {"devices": 3}, credential).status == 401
