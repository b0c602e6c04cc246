"""`scraper snapshot`: a page from the archive (or fetched) saved as a fixture that the
parametrised adapter test (tests/test_sites.py) picks up; tried in a temporary copy of the suite."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from servers import Route, serve
from test_quality import DAY1, Archive, day_of_articles
from typer.testing import CliRunner

from scraper import Article, process
from scraper.capture.warc import Stored, read_responses
from scraper.cli import app
from scraper.sites import site_for

TESTS = Path(__file__).resolve().parent
RBC = TESTS / "fixtures" / "rbc" / "rbc-business-inline-cards-read-also-2023.warc.gz"
INTERFAX = TESTS / "fixtures" / "interfax" / "interfax-interview-airports-2023.warc.gz"


def stored(warc: Path) -> Stored:
    return next(s for s in read_responses(warc, warc.name, 10**8) if isinstance(s, Stored))


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """A copy of the adapter test and its helpers, with a fixture folder of its own."""
    folder = tmp_path / "suite"
    folder.mkdir()
    for name in ("test_sites.py", "textmatch.py", "conftest.py"):
        shutil.copy(TESTS / name, folder / name)
    return folder


def run_suite(suite: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(suite),
               f"{suite}/test_sites.py::test_fixture", "-v"]  # fmt: skip
    return subprocess.run(command, cwd=suite, capture_output=True, text=True, timeout=300)


def snapshot(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["snapshot", *args])


def test_an_archived_page_becomes_a_fixture_the_adapter_test_runs(archive: Archive, suite: Path) -> None:
    page = stored(RBC).capture
    archive.article("rbc", page.url, page.fetched_at, page.body)
    archive.close()
    result = snapshot(page.url, "--out", str(archive.root), "--fixtures", str(suite / "fixtures"), "--name", "snap")
    assert result.exit_code == 0, result.output
    warc, expected = suite / "fixtures" / "rbc" / "snap.warc.gz", suite / "fixtures" / "rbc" / "snap.json"
    assert result.stdout.split() == [str(warc), str(expected)]
    assert "warc/rbc-" in result.stderr and "review" in result.stderr
    data = json.loads(expected.read_text(encoding="utf-8"))
    article = process(page, site_for(page.url))
    assert isinstance(article, Article)
    assert data["body"] == list(article.paragraphs) and data["title"] == article.title
    assert data["boilerplate"] == [] and data["notes"].startswith("NEEDS REVIEW")
    assert stored(warc).capture.body == page.body
    ran = run_suite(suite)
    assert ran.returncode == 0 and "test_fixture[rbc/snap] PASSED" in ran.stdout, ran.stdout + ran.stderr


def test_a_page_not_in_the_archive_is_fetched(tmp_path: Path, suite: Path) -> None:
    page = stored(INTERFAX).capture
    path = "/" + page.url.split("/", 3)[3]
    headers = {k: v for k, v in page.headers if k.lower() in ("content-type", "date")}
    with serve({path: Route(body=page.body, headers=headers)}) as server:
        result = snapshot(page.url, "--site", "interfax", "--connect-to", f"https://www.interfax.ru={server.origin}",
                          "--out", str(tmp_path / "none"), "--fixtures", str(suite / "fixtures"))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "a fetch of https://www.interfax.ru/" in result.stderr
    (expected,) = (suite / "fixtures" / "interfax").glob("interfax-*.json")
    assert stored(expected.with_suffix(".warc.gz")).capture.url == page.url
    ran = run_suite(suite)
    assert ran.returncode == 0 and f"test_fixture[interfax/{expected.stem}] PASSED" in ran.stdout, ran.stdout


def test_a_flagged_article_is_snapshotted_with_the_command_check_prints(archive: Archive, tmp_path: Path) -> None:
    day_of_articles(archive, DAY1, gone="rbc", per_site=3)
    checked = CliRunner().invoke(app, ["check", "--out", str(archive.root), "--since", DAY1.isoformat()])
    command = next(line for line in checked.output.splitlines() if line.strip().startswith("scraper snapshot"))
    words = shlex.split(command)
    assert words[:2] == ["scraper", "snapshot"] and "--site" in words
    result = CliRunner().invoke(app, [*words[1:], "--fixtures", str(tmp_path / "fx")])
    assert result.exit_code == 0, result.output
    (expected,) = (tmp_path / "fx" / "rbc").glob("*.json")
    assert "NOT on this page" in json.loads(expected.read_text(encoding="utf-8"))["notes"]
    assert "fixture test fails" in result.stderr


def test_snapshot_refuses_to_overwrite_and_bad_input(archive: Archive, tmp_path: Path) -> None:
    page = stored(RBC).capture
    archive.article("rbc", page.url, page.fetched_at + timedelta(seconds=1), page.body)
    archive.close()
    common = ["--out", str(archive.root), "--fixtures", str(tmp_path / "fx")]
    assert snapshot(page.url, *common, "--name", "a").exit_code == 0
    for args, message in (
        ([page.url, *common, "--name", "a"], "exists"),
        ([page.url, *common, "--name", "../a"], "--name"),
        ([page.url, *common, "--site", "kremlin"], "belongs to rbc"),
        ([page.url, *common, "--site", "lenta"], "unknown site"),
        (["ftp://x/y", *common], "not an http(s) URL"),
    ):
        result = snapshot(*args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1


def test_a_page_that_gives_no_article_fails_with_exit_1(tmp_path: Path) -> None:
    with serve({"/russia/1": Route(body=b"gone", status=404)}) as server:
        result = snapshot("https://www.interfax.ru/russia/1", "--connect-to", f"https://www.interfax.ru={server.origin}",
                          "--out", str(tmp_path / "o"), "--fixtures", str(tmp_path / "fx"))  # fmt: skip
    assert result.exit_code == 1 and "HTTP 404" in result.output
    assert not list((tmp_path / "fx").rglob("*.*"))
