"""The catalog and reseller directory: JSON files shipped inside the layer.

The vendor edits `license_manager/data/products.json` and `resellers.json` and deploys; nothing
is seeded into the table, so what is deployed is what is served.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from license_manager.domain.catalog import Catalog


def _read(name: str) -> object:
    return json.loads(resources.files("license_manager.data").joinpath(name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Loaded and validated once per process; a broken data file fails loudly at first use."""
    return Catalog.model_validate({"products": _read("products.json"), "resellers": _read("resellers.json")})
