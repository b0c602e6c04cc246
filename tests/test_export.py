"""``scraper export``: one row per article from the catalog. The JSONL rows are the articles' JSON
metadata files plus their text files, exactly; CSV and Parquet carry the same values."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from test_index import Archive, build_archive

from scraper.archive.catalog import Catalog
from scraper.sites import SITES


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build_archive(tmp_path_factory.mktemp("export"))


def on_disk(archive: Archive) -> list[dict[str, Any]]:
    """What every row must be: the JSON metadata file, then ``text`` = the text file's content."""
    rows = []
    for text in sorted((archive.out / "text").rglob("*.txt")):
        meta = json.loads(text.with_suffix(".json").read_text(encoding="utf-8"))
        rows.append({**meta, "text": text.read_text(encoding="utf-8")})
    return rows


def jsonl(archive: Archive, *args: str) -> list[dict[str, Any]]:
    done = archive.scraper("export", "--format", "jsonl", *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def by_url(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    keyed = {row["url"]: row for row in rows}
    assert len(keyed) == len(rows)
    return keyed


def test_jsonl_rows_are_the_text_files_and_their_metadata(archive: Archive) -> None:
    rows = jsonl(archive, "--output", "articles.jsonl")  # nothing on stdout
    assert rows == []
    written = [json.loads(line) for line in (archive.root / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    expected = on_disk(archive)
    assert len(written) == len(expected) == sum(archive.world.expected(s) for s in SITES)
    assert by_url(written) == by_url(expected)
    for row in written:  # the metadata's own key order, then the text
        assert list(row)[-1] == "text" and list(row)[:-1] == list(by_url(expected)[row["url"]])[:-1]
    assert jsonl(archive) == written  # the same rows on standard output, in the same order


def test_site_and_since_choose_the_rows(archive: Archive) -> None:
    rbc = next(s for s in SITES if s.name == "rbc")
    rows = jsonl(archive, "--site", "rbc")
    assert {r["site"] for r in rows} == {"rbc"} and len(rows) == archive.world.expected(rbc)
    with Catalog(archive.out / "catalog.sqlite") as catalog:
        captured = sorted(a.archived_at for a in catalog.articles() if a.archived_at)
    assert len(jsonl(archive, "--since", "2000-01-01")) == len(captured)
    last = captured[-1]
    assert jsonl(archive, "--since", (last + timedelta(seconds=1)).isoformat()) == []
    assert len(jsonl(archive, "--since", last.isoformat())) == sum(1 for c in captured if c >= last)


def test_csv_carries_the_same_values(archive: Archive) -> None:
    done = archive.scraper("export", "--format", "csv")
    assert done.returncode == 0, done.stderr
    table = list(csv.DictReader(io.StringIO(done.stdout)))
    expected = by_url(on_disk(archive))
    assert len(table) == len(expected)
    for row in table:
        want = expected[row["url"]]
        assert list(row) == list(want)
        for key, value in want.items():
            assert row[key] == _as_csv(value), key


def _as_csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def test_parquet_carries_the_same_values_typed(archive: Archive) -> None:
    done = archive.scraper("export", "--format", "parquet", "--output", "articles.parquet")
    assert done.returncode == 0, done.stderr
    table = pq.read_table(archive.root / "articles.parquet")
    assert str(table.schema.field("authors").type) == "list<element: string>"
    assert str(table.schema.field("warc_offset").type) == "int64"
    assert str(table.schema.field("adapter_fallback").type) == "bool"
    nested = ("sources", "new_inside")  # a map and a list of records: kept as their JSON text
    expected = [{k: json.dumps(v, ensure_ascii=False) if k in nested else v for k, v in row.items()}
                for row in on_disk(archive)]  # fmt: skip
    assert by_url(table.to_pylist()) == by_url(expected)


@pytest.mark.parametrize(("name", "begins"), [("rows.csv", "url,"), ("rows.PARQUET", "PAR1"), ("rows.txt", "{")])
def test_the_output_suffix_says_the_format_when_format_does_not(
    archive: Archive, tmp_path: Path, name: str, begins: str
) -> None:
    done = archive.scraper("export", "--output", str(tmp_path / name))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / name).read_bytes().startswith(begins.encode())


def test_a_missing_text_file_fails_that_row_only(archive: Archive, tmp_path: Path) -> None:
    text = sorted((archive.out / "text").rglob("*.txt"))[0]
    kept = text.read_bytes()
    text.unlink()
    try:
        done = archive.scraper("export", "--output", str(tmp_path / "rows.jsonl"))
    finally:
        text.write_bytes(kept)
    assert done.returncode == 1
    failed = [line for line in done.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1
    rows = (tmp_path / "rows.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rows) == len(on_disk(archive)) - 1


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "xml"],
        ["--format", "parquet"],  # binary: needs --output
        ["--site", "nowhere"],
        ["--since", "yesterday"],
        ["--out", "no-such-archive"],
    ],
)
def test_bad_input_is_a_one_line_usage_error(archive: Archive, args: list[str]) -> None:
    done = archive.scraper("export", *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error:") and len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""
