"""What text a person may type into a name or an email, so nothing hidden is shown to others.

Refused anywhere: control characters (NUL, tabs, newlines...), format characters (zero-width
spaces and joiners, bidirectional overrides and isolates, the BOM, soft hyphens), surrogates,
private-use and unassigned code points, and line or paragraph separators. Such characters make a
name or an address look like another one, or reorder what is displayed after them. Text is kept
in Unicode normal form C, so the same name typed on two systems is stored the same way.
"""

from __future__ import annotations

import re
import unicodedata

_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_VISIBLE = frozenset({"L", "N", "P", "S", "M"})

MAX_EMAIL_LENGTH = 254
# one @, a local part of 1-64 characters, a domain with a dot and no empty label; no spaces.
_EMAIL = re.compile(r"^[^@\s]{1,64}@(?!\.)(?!.*\.\.)[^@\s]+\.[^@\s.]+$")


def hidden_characters(value: str) -> list[str]:
    """The code points of `value` that are refused, as U+XXXX (for the error message)."""
    return sorted({f"U+{ord(c):04X}" for c in value if unicodedata.category(c) in _HIDDEN})


def name_problem(value: str) -> str | None:
    """Why `value` (already stripped) cannot be a display name, or None."""
    hidden = hidden_characters(value)
    if hidden:
        return f"must not contain control, invisible or direction-changing characters ({', '.join(hidden[:5])})"
    if not any(unicodedata.category(c)[0] in _VISIBLE for c in value):
        return "must contain a visible character"
    return None


def clean_name(value: str) -> str:
    """Stripped, in normal form C. Raises ValueError (for a pydantic validator) if refused."""
    text = unicodedata.normalize("NFC", value.strip())
    problem = name_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


def clean_email(value: str) -> str:
    """Trimmed, lower-cased, normal form C. Raises ValueError if it is not an address."""
    email = unicodedata.normalize("NFC", value.strip()).lower()
    hidden = hidden_characters(email)
    if hidden:
        raise ValueError(f"is not an email address: it contains invisible characters ({', '.join(hidden[:5])})")
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise ValueError("is not an email address (name@example.com)")
    return email
