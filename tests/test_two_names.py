"""The same WARC under two names in the folders given to ``reclean`` (a copy, a hard link, a
symlink, the gunzipped file beside its .warc.gz, the same folder twice): every response record,
known by its WARC-Record-ID, is extracted once, from the file this tool wrote, and the re-clean
says once which file it skipped as a duplicate of which (issue 15)."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest
from servers import Route, serve
from test_cli import ARTICLE
from typer.testing import CliRunner

from scraper.cli import app
from scraper.config import Settings
from scraper.pipeline.reread import reclean

ORIGIN = "https://www.interfax.ru"


def fetched(out: Path, *paths: str) -> Path:
    """A ``scraper fetch`` of articles at ``paths`` into the archive ``out``: its new WARC file."""
    routes = {path: Route(body=ARTICLE.replace(b"</h1>", f" {path}</h1>".encode())) for path in paths}
    before = set(out.glob("warc/*.warc.gz"))
    with serve(routes | {"/robots.txt": Route(status=404)}) as server:
        result = CliRunner().invoke(
            app, ["fetch", "--out", str(out), "--connect-to", f"{ORIGIN}={server.origin}",
                  *(ORIGIN + path for path in paths)],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    (warc,) = set(out.glob("warc/*.warc.gz")) - before
    return warc


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted((out / "text").rglob("*")) if p.is_file()}


def second_name(warc: Path, kind: str) -> Path:
    other = warc.with_name("a-" + warc.name)  # sorts before the original
    if kind == "copy":
        shutil.copyfile(warc, other)
    elif kind == "hard link":
        os.link(warc, other)
    elif kind == "symlink":
        other.symlink_to(warc.name)
    else:  # gunzipped beside it: x.warc sorts before x.warc.gz
        other = warc.with_suffix("")
        other.write_bytes(gzip.decompress(warc.read_bytes()))
    return other


@pytest.mark.parametrize("kind", ["copy", "hard link", "symlink", "gunzipped"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_warc_under_two_names_is_read_once(tmp_path: Path, kind: str, jobs: int) -> None:
    out = tmp_path / "out"
    warc = fetched(out, "/world/1", "/world/2")
    as_fetched = files(out)  # the JSONs name the file fetch wrote
    other = second_name(warc, kind)
    for text in (out / "text").rglob("*.txt"):
        text.unlink()  # restored from one of the two
    notes: list[str] = []
    report = reclean([out / "warc"], Settings(out=out, jobs=jobs), on_note=notes.append)
    assert not report.failed, report.failed
    assert files(out) == as_fetched
    written = [o.record_id for o in report.outcomes if o.text_file]
    assert len(written) == len(set(written)) == 2
    same = kind in ("hard link", "symlink")  # robots.txt's 404 is the third response
    said = f"the same file as {warc}" if same else f"a copy of {warc}: its 3 responses were read from there"
    assert notes == [f"{other}: skipped, {said}"]


def test_a_folder_given_twice_is_read_once(tmp_path: Path) -> None:
    out = tmp_path / "out"
    warc = fetched(out, "/world/1")
    notes: list[str] = []
    report = reclean([out / "warc", warc], Settings(out=out), on_note=notes.append)
    assert [o.ok for o in report.outcomes] == [True, True]  # the article, and robots.txt's 404
    assert notes == [f"{warc}: skipped, the same file as {warc}"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_that_holds_another_in_part_gives_only_its_own_records(tmp_path: Path, jobs: int) -> None:
    out = tmp_path / "out"
    first = fetched(out, "/world/1")
    second = fetched(out, "/world/2")
    joined = out / "warc" / "joined.warc.gz"
    joined.write_bytes(first.read_bytes() + second.read_bytes())  # concatenated: both files' records
    second.unlink()
    as_fetched = files(out)
    for text in (out / "text").rglob("*.txt"):
        text.unlink()
    notes: list[str] = []
    report = reclean([out / "warc"], Settings(out=out, jobs=jobs), on_note=notes.append)
    assert not report.failed, report.failed
    assert len([o for o in report.outcomes if o.text_file]) == 2
    assert notes == [f"{joined}: 2 of its 4 responses skipped, read from {first}"]  # robots.txt's 404s too
    # the text of /world/2 names joined.warc.gz now, where its only copy is; that of /world/1 is unchanged
    changed = {name for name, data in files(out).items() if as_fetched.get(name) != data}
    assert len(changed) == 1 and changed.pop().endswith(".json")


def test_the_cli_re_cleans_a_copy_once(tmp_path: Path) -> None:
    out = tmp_path / "out"
    warc = fetched(out, "/world/1")
    as_fetched = files(out)
    second_name(warc, "copy")
    for text in (out / "text").rglob("*.txt"):
        text.unlink()
    result = CliRunner().invoke(app, ["reclean", str(out / "warc")])
    assert result.exit_code == 0, result.output
    assert files(out) == as_fetched
    assert "re-cleaned 2 records: 1 article (1 changed, 0 unchanged), 0 failed, 1 skipped" in result.output
