"""A re-clean of an archive someone tampered with: it writes only regular files inside the
archive, under the names this tool gives, and finds its archive from the WARCs' place."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from servers import Route, serve
from test_cli import ARTICLE
from typer.testing import CliRunner

from scraper.archive import texts
from scraper.archive.inside import folder_inside
from scraper.capture.warc import WarcFile
from scraper.cli import app
from scraper.errors import StoreError
from scraper.models import Exchange


def fetched(tmp_path: Path) -> Path:
    with serve({"/world/1": Route(body=ARTICLE), "/robots.txt": Route(status=404)}) as server:
        result = CliRunner().invoke(
            app, ["fetch", "--out", str(tmp_path / "out"), "--connect-to", f"https://www.interfax.ru={server.origin}",
                  "https://www.interfax.ru/world/1"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    return tmp_path / "out"


def reclean(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["reclean", *args])
    return result.exit_code, result.output


def test_reclean_finds_its_archive_from_the_warcs_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = fetched(tmp_path)
    monkeypatch.chdir(tmp_path)  # no --out: not ./archives, but the archive the WARCs are in
    (text,) = out.rglob("*.txt")
    text.unlink()
    code, said = reclean(str(out / "warc"))
    assert code == 0, said
    assert text.is_file() and not (tmp_path / "archives").exists()


@pytest.mark.parametrize("kind", ["fifo", "symlink"])
def test_a_text_path_that_is_no_regular_file_is_left_alone(tmp_path: Path, kind: str) -> None:
    out = fetched(tmp_path)
    (text,) = out.rglob("*.txt")
    text.unlink()
    if kind == "fifo":
        os.mkfifo(text)
    else:
        text.symlink_to("/dev/zero")
    code, said = reclean(str(out / "warc"), "--out", str(out))
    assert code == 1 and "not a regular file" in said, said
    assert text.is_fifo() if kind == "fifo" else text.is_symlink()


def test_a_symlinked_text_folder_is_not_written_through(tmp_path: Path) -> None:
    out = fetched(tmp_path)
    (text,) = out.rglob("*.txt")
    outside = tmp_path / "outside"
    outside.mkdir()
    for old in text.parent.iterdir():
        old.unlink()
    text.parent.rmdir()
    text.parent.symlink_to(outside)
    code, said = reclean(str(out / "warc"), "--out", str(out))
    assert code == 1 and "leads out of the archive" in said, said
    assert list(outside.iterdir()) == []


def test_a_text_folder_swapped_for_a_symlink_after_the_check_receives_nothing_outside(tmp_path: Path) -> None:
    """The race a re-clean had: the folder looked at when the record was read, written to after the
    extraction. The text is now written through the folder opened and checked, whatever its path
    has become meanwhile."""
    root, outside = tmp_path / "out", tmp_path / "outside"
    folder = root / "text" / "site" / "2026-01-01"
    outside.mkdir()
    with folder_inside(root, folder, StoreError) as opened:
        folder.rename(folder.with_name("moved"))
        folder.symlink_to(outside)
        assert texts._replace(opened, folder / "000_x.txt", b"text\n")
    assert list(outside.iterdir()) == []
    assert (folder.with_name("moved") / "000_x.txt").read_bytes() == b"text\n"
    with pytest.raises(StoreError, match="leads out of the archive"), folder_inside(root, folder, StoreError):
        pass
    assert list(outside.iterdir()) == []


def test_no_folder_is_made_outside_and_no_file_there_is_written_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, outside = tmp_path / "out", tmp_path / "outside"
    outside.mkdir()
    root.mkdir()
    (root / "text").symlink_to(outside)  # made after the archive's folders were checked
    with (
        pytest.raises(StoreError, match="leads out of the archive"),
        folder_inside(root, root / "text" / "s" / "d", StoreError),
    ):
        pass
    assert list(outside.iterdir()) == []
    (root / "text").unlink()
    folder = root / "text" / "s" / "d"
    precious = outside / "precious"
    precious.write_bytes(b"kept\n")
    monkeypatch.setattr(texts.secrets, "token_hex", lambda n: "0" * 2 * n)
    with folder_inside(root, folder, StoreError) as opened:
        os.link(precious, folder / f".000_x.txt.{os.getpid()}.00000000.tmp")  # the temp name, taken
        with pytest.raises(StoreError, match="cannot write"):
            texts._replace(opened, folder / "000_x.txt", b"text\n")
    assert precious.read_bytes() == b"kept\n" and not (folder / "000_x.txt").exists()


def test_a_metadata_record_naming_another_urls_text_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    warc = out / "warc" / "crafted.warc.gz"
    body = ARTICLE
    exchange = Exchange("https://www.interfax.ru/world/2", datetime(2026, 1, 1, tzinfo=UTC), "GET", (), "HTTP/1.1",
                        200, "OK", (("Content-Type", "text/html; charset=utf-8"),), body)  # fmt: skip
    with WarcFile(warc, "warc/crafted.warc.gz") as file:
        file.write_warcinfo({"software": "scraper/test"})
        file.write_exchange(exchange, {"software": "scraper/test", "scraper-text": "text/x/000_0123456789abcdef"})
    code, said = reclean(str(out / "warc"), "--out", str(out))
    assert code == 1 and "no text path of https://www.interfax.ru/world/2" in said, said
    assert not (out / "text").exists()


def test_a_flipped_byte_costs_its_own_records_only_whatever_the_jobs(tmp_path: Path) -> None:
    seeds = sorted((Path(__file__).parent / "fixtures" / "seeds").glob("*.warc.gz"))
    joined = b"".join(seed.read_bytes() for seed in seeds)
    second = len(seeds[0].read_bytes())
    damaged = bytearray(joined)
    damaged[second + 200] ^= 0xFF  # inside the second record's compressed data
    written = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        (out / "warc").mkdir(parents=True)
        (out / "warc" / "joined.warc.gz").write_bytes(bytes(damaged))
        code, said = reclean(str(out / "warc"), "--out", str(out), "--jobs", jobs)
        assert code == 1 and "joined.warc.gz" in said, said
        written[jobs] = {p.relative_to(out): p.read_bytes() for p in (out / "text").rglob("*.txt")}
    assert written["1"] == written["2"]
    assert len(written["1"]) >= 1  # the record before the damage (reading on past it is the repair's work)


def test_fetch_says_which_urls_it_fetched_once(tmp_path: Path) -> None:
    """The same article given thrice (a tracking parameter, the bare domain) is fetched once, and said."""
    with serve({"/world/1": Route(body=ARTICLE), "/robots.txt": Route(status=404)}) as server:
        result = CliRunner().invoke(
            app, ["fetch", "--out", str(tmp_path / "out"), "--connect-to", f"https://www.interfax.ru={server.origin}",
                  "https://www.interfax.ru/world/1", "https://www.interfax.ru/world/1?utm_source=x",
                  "http://interfax.ru/world/1/"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").rglob("*.txt"))) == 1
    said = "fetched once: 2 URLs are articles given before (https://www.interfax.ru/world/1?utm_source=x, "
    assert said + "http://interfax.ru/world/1/)" in result.output
