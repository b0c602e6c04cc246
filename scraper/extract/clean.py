"""Site rules applied to extracted text, and the reading of printed dates."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

_SPACES = re.compile(r"[ \t\r\f\v\u200b\u2028\u2029\ufeff]+")
# a line of nothing but tags is never a paragraph: a broken page's stray "<" beside an end tag
# reads as "</div>" (a <title> that swallowed the page is parsed again in page.py, not here)
_ONLY_TAGS = re.compile(r"(?:\s*</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>)+\s*")
_MONTHS_RU = {
    "января": 1, "февраля": 2, "марта": 3, "апреля": 4, "мая": 5, "июня": 6, "июля": 7,
    "августа": 8, "сентября": 9, "октября": 10, "ноября": 11, "декабря": 12,
    "січня": 1, "лютого": 2, "березня": 3, "квітня": 4, "травня": 5, "червня": 6, "липня": 7,
    "серпня": 8, "вересня": 9, "жовтня": 10, "листопада": 11, "грудня": 12,
}  # fmt: skip
_MONTH_WORD = re.compile("|".join(_MONTHS_RU), re.I)


@lru_cache(maxsize=512)
def _pattern(expression: str) -> re.Pattern[str]:
    return re.compile(expression)


def clean_lines(text: str, drop_lines: tuple[str, ...], title: str | None = None) -> list[str]:
    """Paragraph lines with whitespace tidied, empty and dropped lines gone, and a leading
    repeat of the title removed (the heading is often inside the body container)."""
    patterns = [_pattern(p) for p in drop_lines]
    lines = []
    for raw in text.splitlines():
        # the regex only where it can change something: most lines are printable with single spaces
        line = raw.strip() if raw.isprintable() and "  " not in raw else _SPACES.sub(" ", raw).strip()
        if line and not ("<" in line and _ONLY_TAGS.fullmatch(line)) and not any(p.search(line) for p in patterns):
            lines.append(line)
    if lines and title and _same(lines[0], title):
        lines.pop(0)
    return lines


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def parse_date(values: list[str], formats: tuple[str, ...], timezone: str) -> datetime | None:
    """The first value that reads as a date, in the site's own time zone (so its calendar date is
    the one the site printed). A date without an offset is taken to be in that zone already."""
    zone = ZoneInfo(timezone)
    for value in values:
        parsed = _read(value.strip(), formats)
        if parsed is not None:
            return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed.astimezone(zone)
    return None


def _read(value: str, formats: tuple[str, ...]) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    numeric = _MONTH_WORD.sub(lambda m: f"{_MONTHS_RU[m.group(0).lower()]:02d}", value)
    for fmt in formats:
        for candidate in (value, numeric):
            try:
                return datetime.strptime(candidate, fmt)
            except ValueError:
                continue
    return None
