"""Text helpers for Khmer and English names.

Names are stored exactly as received (zero-width spaces and all); only derived
search keys are normalised.
"""

import unicodedata

# Invisible characters that Khmer typists and converters insert between words.
_INVISIBLE = {ord(c): None for c in "\u200b\u200c\u200d\u2060\ufeff\u00ad"}


def search_key(*parts: str | None) -> str:
    """Return a case-, spacing- and zero-width-insensitive key for searching names."""
    text = " ".join(p for p in parts if p)
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE).lower()
    return " ".join(text.split())


def name_match_key(text: str) -> str:
    """A key for matching place names across sources (letters and digits only)."""
    return "".join(ch for ch in search_key(text) if ch.isalnum())
