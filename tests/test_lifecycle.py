"""The archive's whole life against local stand-in sites: run, a page that makes today's adapter
leak, check, a new adapter layout, reclean in place, export, check again, reclean again."""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import pytest
from test_run import World
from typer.testing import CliRunner

import scraper.sites
from scraper.archive.catalog import Catalog
from scraper.cli import app
from scraper.sites import SITES, by_name

LEAK = "Подписывайтесь на канал Президента в мессенджере Max"
PAGE = "http://kremlin.ru/events/president/news/69830"


def with_box(body: bytes, n: int) -> bytes:
    """Another article on the page's template (each paragraph made its own), with a box added inside
    its body after the first paragraph."""
    html = body.decode("utf-8")
    start = html.index("<body")
    html = html[:start] + html[start:].replace("</p>", f" Сообщение {n}.</p>")
    at = html.index("</p>", html.index('itemprop="articleBody"')) + len("</p>")
    return (html[:at] + f'<p class="promo">{LEAK}</p>' + html[at:]).encode("utf-8")


def files(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted((root / "text").rglob("*")) if p.is_file()}


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_run_check_reclean_export_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world, out = World(tmp_path), tmp_path / "out"
    kremlin = by_name("kremlin")
    _, headers, body = next(p for p in world.pages["kremlin"] if p[0] == PAGE)
    with ExitStack() as stack:
        world.start(stack)
        assert world.run()[0].returncode == 0
        # the site adds a box to its pages: four new articles carry it
        for n in range(4):
            world.add_to_feed(
                kremlin, f"http://kremlin.ru/events/president/news/{70100 + n}", (headers, with_box(body, n))
            )
        done, report = world.run()
        assert done.returncode == 0, done.stderr
        assert report["sites"]["kremlin"]["extracted"] == 4
    before = files(out)
    assert sum(LEAK in data.decode() for data in before.values()) == 4  # the four new texts

    code, said = invoke("check", "--out", str(out), "--site", "kremlin")
    assert code == 1 and "repeated" in said, said

    # the adapter learns the box, as a new layout would
    fixed = replace(
        kremlin.layouts[-1], version="lifecycle", drop_lines=(*kremlin.layouts[-1].drop_lines, re.escape(LEAK))
    )
    patched = replace(kremlin, layouts=(*kremlin.layouts[:-1], fixed))
    monkeypatch.setattr(scraper.sites, "SITES", tuple(patched if s.name == "kremlin" else s for s in SITES))

    code, said = invoke("reclean", "--out", str(out), "--quiet", str(out / "warc"))
    assert code == 0, said
    after = files(out)
    assert set(after) == set(before)  # every text went back to its own path: no file added
    assert not [p for p, data in after.items() if LEAK in data.decode()]
    changed = {p for p in after if after[p] != before[p]}
    assert len([p for p in changed if p.suffix == ".txt"]) == 4
    with Catalog(out / "catalog.sqlite") as catalog:
        rows = [row for row in catalog.articles() if row.text_path]
    assert rows and all(
        hashlib.sha256((out / (row.text_path or "")).read_bytes()).hexdigest() == row.text_sha256 for row in rows
    )
    assert {row.adapter for row in rows if row.site == "kremlin"} >= {"kremlin/lifecycle"}

    code, exported = invoke("export", "--out", str(out), "--format", "jsonl", "--site", "kremlin")
    assert code == 0
    texts = [json.loads(line)["text"] for line in exported.splitlines() if line.startswith("{")]
    assert len(texts) == world.expected(kremlin) and not [t for t in texts if LEAK in t]

    code, said = invoke("check", "--out", str(out), "--site", "kremlin")
    assert code == 0, said

    code, said = invoke("reclean", "--out", str(out), str(out / "warc"))
    assert code == 0 and "(0 changed," in said, said
    assert files(out) == after
