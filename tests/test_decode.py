from __future__ import annotations

import pytest

from scraper.extract.decode import decode_html

TEXT = "<html><head>{meta}</head><body><p>Москва. ИНТЕРФАКС - Путин и Байден обсудили гарантии.</p></body></html>"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (TEXT.format(meta="").encode("cp1251"), "text/html; charset=windows-1251"),  # header
        (TEXT.format(meta='<meta charset="windows-1251">').encode("cp1251"), "text/html"),  # meta
        (
            TEXT.format(meta='<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">').encode(
                "cp1251"
            ),
            None,
        ),
        (TEXT.format(meta="").encode("cp1251"), None),  # detection
        (TEXT.format(meta="").encode("utf-8"), "text/html; charset=windows-1251"),  # header lies
        (TEXT.format(meta="").encode("cp1251"), "text/html; charset=utf-8"),  # header lies the other way
        (TEXT.format(meta="").encode("utf-8-sig"), "text/html; charset=windows-1251"),  # a BOM wins
    ],
    ids=["header", "meta-charset", "meta-http-equiv", "detected", "utf8-labelled-1251", "1251-labelled-utf8", "bom"],
)
def test_cyrillic_comes_out_right(body: bytes, content_type: str | None) -> None:
    assert "Путин и Байден обсудили гарантии" in decode_html(body, content_type)


def test_unknown_charset_name_is_ignored() -> None:
    assert "Москва" in decode_html(TEXT.format(meta="").encode("utf-8"), "text/html; charset=x-no-such")


def test_invalid_bytes_never_raise() -> None:
    assert "Москва" in decode_html("Москва".encode() + b"\xff\xfe\x00", "text/html; charset=utf-8")
