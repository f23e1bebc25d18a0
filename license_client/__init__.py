"""The reference client of License Manager's installed-systems API: what a product team embeds in
its software so that the software registers with its organization, reports how many devices it
runs, and checks a signed license, online or at a site with no internet (docs/systems.md).

Standard library, plus PyJWT and `cryptography` to verify licenses (ES256).
"""

from license_client.client import Installation, LicenseError, verify

__all__ = ["Installation", "LicenseError", "verify"]
