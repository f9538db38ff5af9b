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


ZWSP = "\u200b"


def _is_khmer(ch: str) -> bool:
    return "\u1780" <= ch <= "\u17ff" or "\u19e0" <= ch <= "\u19ff"


def khmer_line_breaks(text: str) -> str:
    """Insert zero-width spaces between Khmer words so long Khmer text can wrap.

    Khmer writes no spaces between words, and layout engines (browsers' print,
    WeasyPrint) then find no place to break a line. The words come from a
    Khmer word segmenter (khmercut); text without Khmer is returned unchanged.
    """
    if not any(_is_khmer(ch) for ch in text):
        return text
    from khmercut import tokenize

    out: list[str] = []
    for token in tokenize(text):
        if out and token.strip() and _is_khmer(token[0]) and _is_khmer(out[-1][-1]):
            out.append(ZWSP)
        out.append(token)
    return "".join(out)
