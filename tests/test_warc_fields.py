"""The fields of the warcinfo record are valid WARC named fields (WARC 1.1, section 4: a field name
is an HTTP token), so that strict validators accept the whole record."""

from __future__ import annotations

import re

from scraper.config import Settings
from scraper.pipeline.capture import warcinfo

TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def test_warcinfo_field_names_are_tokens_with_connect_to() -> None:
    settings = Settings(
        connect_to=(("https://www.interfax.ru", "http://127.0.0.1:8080"), ("http://kremlin.ru", "http://127.0.0.1:9"))
    )
    info = warcinfo(settings)
    assert all(TOKEN.match(name) for name in info), list(info)
    assert info["connect-to"] == "https://www.interfax.ru=http://127.0.0.1:8080, http://kremlin.ru=http://127.0.0.1:9"
    assert all("\r" not in value and "\n" not in value for value in info.values())
