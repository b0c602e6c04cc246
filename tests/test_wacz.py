"""``scraper pack --wacz``: the package passes py-wacz's own validation, holds every WARC byte for
byte, the index over all of their response and revisit records, and one page per article."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_index import Archive, build_archive
from wacz.main import main as wacz_main

from scraper.archive import wacz as scraper_wacz
from scraper.archive.catalog import Catalog
from scraper.archive.cdx import index_path, read_index


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Archive, Path]:
    archive = build_archive(tmp_path_factory.mktemp("wacz"))
    done = archive.scraper("pack", "--wacz", "archive.wacz")
    assert done.returncode == 0, done.stderr
    return archive, archive.root / "archive.wacz"


def validates(path: Path, capsys: pytest.CaptureFixture[str]) -> bool:
    code = wacz_main(["validate", "--file", str(path)])
    said = capsys.readouterr().out
    return code == 0 and "Validation succeeded" in said


def test_the_package_validates(packed: tuple[Archive, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert validates(packed[1], capsys)


def test_it_holds_every_warc_and_the_index_of_all_their_records(packed: tuple[Archive, Path]) -> None:
    archive, path = packed
    with zipfile.ZipFile(path) as wacz:
        names = set(wacz.namelist())
        for warc in archive.warcs():
            assert wacz.read(f"archive/{warc.name}") == warc.read_bytes()
        assert {n for n in names if n.startswith("archive/")} == {f"archive/{w.name}" for w in archive.warcs()}
        assert {"indexes/index.cdx.gz", "indexes/index.idx", "datapackage.json", "pages/pages.jsonl"} <= names
        packed_index = gzip.decompress(wacz.read("indexes/index.cdx.gz")).decode("utf-8").splitlines()
        datapackage = json.loads(wacz.read("datapackage.json"))
    listed = {(json.loads(line.split(" ", 2)[2])["filename"], int(json.loads(line.split(" ", 2)[2])["offset"]))
              for line in packed_index}  # fmt: skip
    ours = {(e.filename, e.offset) for w in archive.warcs() for e in read_index(index_path(w))}
    assert ours and ours <= listed  # every response and revisit record, at the same offsets
    assert {r["path"] for r in datapackage["resources"]} >= {f"archive/{w.name}" for w in archive.warcs()}


def test_one_page_per_article_with_its_title(packed: tuple[Archive, Path]) -> None:
    archive, path = packed
    with zipfile.ZipFile(path) as wacz:
        lines = [json.loads(line) for line in wacz.read("pages/pages.jsonl").decode("utf-8").splitlines()]
    header, pages = lines[0], lines[1:]
    assert header["format"] == "json-pages-1.0"
    with Catalog(archive.out / "catalog.sqlite") as catalog:
        metas = [
            json.loads((archive.out / (a.json_path or "")).read_text(encoding="utf-8")) for a in catalog.articles()
        ]
    assert len(pages) == len(metas) == len({p["url"] for p in pages})
    titles = {m["url"]: m["title"] for m in metas}
    assert {p["url"]: p["title"] for p in pages} == titles
    assert all(p["ts"].endswith("Z") and p["ts"][:10] == m["fetched_at"][:10] for p in pages for m in metas
               if m["url"] == p["url"])  # fmt: skip


def test_a_tampered_package_fails_validation(
    packed: tuple[Archive, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check the tests rely on does look at the bytes: one changed WARC is caught."""
    _, path = packed
    tampered = tmp_path / "tampered.wacz"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as target:
        warcs = [i.filename for i in source.infolist() if i.filename.startswith("archive/")]
        swapped = {warcs[0]: warcs[1], warcs[1]: warcs[0]}  # two valid WARCs under each other's name
        for item in source.infolist():
            data = source.read(swapped.get(item.filename, item.filename))
            target.writestr(item.filename, data, compress_type=item.compress_type)
    assert not validates(tampered, capsys)
    assert not scraper_wacz.validate(tampered)


def test_bad_names_and_empty_archives_are_usage_errors(tmp_path: Path) -> None:
    for args in (["--wacz", "out.zip"], ["--wacz", "out.wacz", "--out", str(tmp_path / "nothing")]):
        done = subprocess.run(
            [sys.executable, "-m", "scraper", "pack", *args], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error:") and len(done.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.wacz"))
