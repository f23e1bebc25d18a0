"""The console's files: within the size budget, and its message catalogs complete in both languages."""

from __future__ import annotations

import gzip
import json
import re

from tools.template import ROOT

CONSOLE = ROOT / "console"


def test_the_first_load_is_under_100_kb_of_js_and_css_gzipped() -> None:
    code = [*CONSOLE.rglob("*.js"), *CONSOLE.rglob("*.css")]
    total = sum(len(gzip.compress(path.read_bytes(), 9)) for path in code)
    assert total <= 100 * 1024, f"{total / 1024:.1f} KB"


def test_both_catalogs_have_every_message_and_the_same_placeholders() -> None:
    en = json.loads((CONSOLE / "i18n" / "en.json").read_text())
    fr = json.loads((CONSOLE / "i18n" / "fr.json").read_text())
    assert set(en) == set(fr)
    for key in en:
        names = {m.split(",")[0] for m in re.findall(r"\{(\w+)", en[key])}
        assert names == {m.split(",")[0] for m in re.findall(r"\{(\w+)", fr[key])}, key


def test_every_message_the_code_asks_for_exists() -> None:
    en = json.loads((CONSOLE / "i18n" / "en.json").read_text())
    asked = {
        key for path in CONSOLE.rglob("*.js") for key in re.findall(r"""\bt\(\s*["']([\w.]+)["']""", path.read_text())
    }
    assert asked
    assert asked <= set(en), sorted(asked - set(en))


def test_the_manuals_words_name_the_controls() -> None:
    fr = json.loads((CONSOLE / "i18n" / "fr.json").read_text())
    en = json.loads((CONSOLE / "i18n" / "en.json").read_text())
    assert [fr[k] for k in ("nav.overview", "overview.activate", "orgs.next", "activate.finish")] == [
        "Aperçu",
        "Activer",
        "Suivant",
        "Terminer",
    ]
    assert [fr[k] for k in ("nav.wallet", "wallet.redeem", "nav.history", "nav.buy")] == [
        "Portefeuille",
        "Échanger la clé de licence",
        "Historique",
        "Où acheter des licences",
    ]
    assert fr["overview.statusLabel"].startswith("Statut de licence")
    assert [en[k] for k in ("nav.overview", "overview.activate", "orgs.next", "activate.finish", "nav.wallet")] == [
        "Overview",
        "Activate",
        "Next",
        "Finish",
        "Wallet",
    ]
    assert [en[k] for k in ("wallet.redeem", "nav.history", "nav.buy")] == [
        "Redeem license key",
        "History",
        "Where to buy licenses",
    ]
    assert en["overview.statusLabel"].startswith("License status")


def test_no_page_builds_markup_from_text() -> None:
    for path in CONSOLE.rglob("*.js"):
        text = path.read_text()
        assert "innerHTML" not in text, path
        assert "insertAdjacentHTML" not in text, path
