"""What strict WARC validators check: warcinfo fields are valid named fields (WARC 1.1, section 4:
a field name is an HTTP token), a metadata record has no payload digest, and a cut-off response
does not promise the bytes it lacks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from scraper.capture.warc import WarcFile
from scraper.config import Settings
from scraper.models import Exchange
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


def _records(path: Path) -> list[tuple[str, dict[str, str], list[tuple[str, str]]]]:
    with path.open("rb") as fh:
        return [
            (r.rec_type, dict(r.rec_headers.headers), list(r.http_headers.headers) if r.http_headers else [])
            for r in ArchiveIterator(fh)
        ]


def _exchange(truncated: str | None) -> Exchange:
    body = b"<html><body><p>cut</p>"
    return Exchange(
        url="https://www.interfax.ru/world/1", started_at=datetime(2026, 12, 5, tzinfo=UTC), method="GET",
        request_headers=(("Host", "www.interfax.ru"),), http_version="HTTP/1.1", status=200, reason="OK",
        response_headers=(("Content-Type", "text/html"), ("Content-Length", "5000")), raw_body=body,
        truncated=truncated,
    )  # fmt: skip


def test_a_metadata_record_has_no_payload_digest(tmp_path: Path) -> None:
    path = tmp_path / "a.warc.gz"
    with WarcFile(path, path.name) as warc:
        warc.write_warcinfo({"software": "test"})
        warc.write_exchange(_exchange(None), {"software": "test"})
    kinds = {kind: warc_headers for kind, warc_headers, _ in _records(path)}
    assert "WARC-Payload-Digest" not in kinds["metadata"] and "WARC-Block-Digest" in kinds["metadata"]
    assert "WARC-Payload-Digest" in kinds["response"]


def test_a_cut_off_body_keeps_the_servers_length_under_another_name(tmp_path: Path) -> None:
    path = tmp_path / "a.warc.gz"
    with WarcFile(path, path.name) as warc:
        warc.write_exchange(_exchange("disconnect"), {})
        warc.write_exchange(_exchange(None), {})
    cut, whole = [http for kind, _, http in _records(path) if kind == "response"]
    assert ("X-Archive-Orig-Content-Length", "5000") in cut and not [k for k, _ in cut if k == "Content-Length"]
    assert ("Content-Length", "5000") in whole
