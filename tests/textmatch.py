"""How expected texts are compared: the rules of ../shared/seeds (README there)."""

from __future__ import annotations

import re
import unicodedata

_TRANS = str.maketrans({"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "’": "'", "‘": "'",
                        "–": "-", "—": "-", "‑": "-", "\u00a0": " ", "ё": "е", "Ё": "Е"})  # fmt: skip


def norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text or "").translate(_TRANS)
    return re.sub(r"\s+", " ", text).strip().casefold()


def missing_in_order(text: str, paragraphs: list[str]) -> list[str]:
    """Paragraphs not found in the text, each searched after the previous one found."""
    haystack, position, missing = norm(text), 0, []
    for paragraph in paragraphs:
        found = haystack.find(norm(paragraph), position)
        if found < 0:
            missing.append(paragraph)
        else:
            position = found + len(norm(paragraph))
    return missing


def leaked(text: str, boilerplate: list[str], body: list[str]) -> list[str]:
    """Boilerplate that shows: as a whole line, or (25+ characters, not part of a body
    paragraph) anywhere in the text."""
    lines = {norm(line) for line in text.splitlines() if line.strip()}
    whole, bodies = norm(text), [norm(p) for p in body]
    out = []
    for line in boilerplate:
        n = norm(line)
        if n and (n in lines or (len(n) >= 25 and not any(n in p for p in bodies) and n in whole)):
            out.append(line)
    return out
