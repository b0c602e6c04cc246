"""The markup sentinel in the quality watch: element signatures new to a layout, met inside the body
of a share of a site's window, reported with counts, kept or dropped, an example and the snapshot
command to capture it; headline-only items counted, never length outliers. Over archives written
the way a scheduled run writes them (``test_quality.Archive``: the real pipeline writes the JSON)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_quality import DAY1, DAY2, Archive, page, paragraphs, url_of
from typer.testing import CliRunner

from scraper.cli import app
from scraper.watch.quality import check_run
from scraper.watch.sentinel import Carrier, Inside, new_inside, read_inside
from scraper.watch.verdict import DEGRADED, OK, Thresholds, baseline

PROMO = "Подписывайтесь на РБК в мессенджере Max: главное за день в одном канале"


def articles(archive: Archive, site: str, day: datetime, count: int, first: int,
             inside: Callable[[int], str] = lambda n: "", headline_only: Callable[[int], bool] = lambda n: False,
             copy_inside: bool = False) -> list[str]:  # fmt: skip
    """``count`` articles of ``site`` ten minutes apart; ``inside(n)``: markup first in the n-th one's body
    (``copy_inside``: the JSON-LD copy holds its text too). Returns their URLs, oldest first."""
    urls = []
    for i in range(count):
        n = first + i
        text = [] if headline_only(n) else paragraphs(f"{site}-{n}", count=6)  # six: the lengths vary little
        box = inside(n)
        copy = [*([box.split(">", 1)[1].rsplit("<", 1)[0]] if box and copy_inside else []), *text] if text else None
        url = url_of(site, n)
        archive.article(site, url, day + timedelta(minutes=10 * i), page(site, f"Новость {n}", text, copy, inside=box))
        urls.append(url)
    archive.close()
    return urls


def test_a_box_in_many_articles_that_leaks_is_reported_and_degrades(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles(archive, "rbc", DAY1, 12, 0)
    carriers = {100, 102, 104, 106, 108}  # five of twelve carry the same promo box
    urls = articles(archive, "rbc", DAY2, 12, 100, lambda n: f'<div class="article__summary">{PROMO}</div>'
                    if n in carriers else "")  # fmt: skip
    config = tmp_path / "check.toml"
    config.write_text("[network]\ntimeout = 5\n", encoding="utf-8")
    options = ["--out", str(archive.root), "--config", str(config), "--since", DAY2.date().isoformat()]

    result = CliRunner().invoke(app, ["check", *options])
    assert result.exit_code == 1, result.output
    (line,) = [line for line in result.output.splitlines() if "new inside the body" in line]
    said, command = line.split("; to capture one: ")
    assert said == (
        "  - new inside the body: div.article__summary in 5 of 12 articles since 2026-11-22, kept: a likely leak "
        "(5 of them carry a repeated line or one their copy lacks)"
    )
    words = shlex.split(command)
    assert words[:3] == ["scraper", "snapshot", urls[8]]  # the newest that carries it
    assert words[3:] == ["--site", "rbc", "--out", str(archive.root), "--config", str(config)]
    # the flagged articles' commands carry the same --out and --config
    assert all(line.endswith(f"--out {archive.root} --config {config}") for line in result.output.splitlines()
               if line.strip().startswith("scraper snapshot"))  # fmt: skip

    rbc = json.loads(CliRunner().invoke(app, ["check", *options, "--json"]).output)["sites"]["rbc"]
    (found,) = rbc["new_inside"]
    assert rbc["verdict"] == DEGRADED and found["line"] in rbc["reasons"]
    assert {k: found[k] for k in ("signature", "articles", "window", "kept", "dropped", "echoed", "state")} == {
        "signature": "div.article__summary", "articles": 5, "window": 12, "kept": 5, "dropped": 0, "echoed": 5,
        "state": "kept",
    }  # fmt: skip
    assert found["degraded"] and found["example"] == urls[8] and found["snapshot"] == command

    # the command works as printed: the page comes from the archive the check read
    monkeypatch.chdir(tmp_path)
    shot = CliRunner().invoke(app, [*words[1:], "--fixtures", str(tmp_path / "tests" / "fixtures")])
    assert shot.exit_code == 0, shot.output
    assert len(list((tmp_path / "tests" / "fixtures" / "rbc").glob("*.json"))) == 1


def test_dropped_boxes_degrade_kept_text_is_a_note_and_a_few_are_not_counted(archive: Archive) -> None:
    boxes = {
        **dict.fromkeys(range(4), '<div class="quote-card masha-ignore">Цитата {n}: слова президента о бюджете</div>'),
        **dict.fromkeys(range(10, 15), '<div class="lead-box">Вводный абзац {n} о встрече министра с жителями</div>'),
        **dict.fromkeys((20, 21), '<div class="factbox">Справка {n}: доходы бюджета области выросли</div>'),
    }  # of thirty articles: dropped in 4, kept in 5 (text, in the JSON-LD copy too), kept in 2
    urls = articles(archive, "kremlin", DAY1, 30, 0, lambda n: boxes.get(n, "").format(n=n), copy_inside=True)
    # the check after a run: no --config given, the command carries the archive it read
    (kremlin,) = check_run(archive.catalog, archive.root, DAY2, since=DAY1).sites
    assert [(n.signature, n.articles, n.state, n.degraded) for n in kremlin.new_inside] == [
        ("div.quote-card", 4, "dropped", True),
        ("div.lead-box", 5, "kept", False),
    ]  # div.factbox: in 2 of 30, under max(2, 10% of 30)
    dropped, kept = kremlin.new_inside
    assert kremlin.verdict == DEGRADED and kremlin.reasons == (dropped.line,)
    assert "in 4 of 30 articles since 2026-11-21T06:00Z, dropped: text we may be missing" in dropped.line
    assert dropped.example == urls[3] and shlex.split(dropped.snapshot)[-2:] == ["--out", str(archive.root)]
    assert kept.echoed == 0 and "no sign of a leak" in kept.line and kept.example == urls[14]

    result = CliRunner().invoke(app, ["check", "--out", str(archive.root), "--since", DAY1.isoformat()])
    notes = [line for line in result.output.splitlines() if line.startswith("  - note: new inside the body")]
    assert len(notes) == 1 and "div.lead-box in 5 of 30 articles" in notes[0]


def test_headline_only_items_are_counted_and_never_length_outliers(archive: Archive) -> None:
    def bare(n: int) -> bool:
        return n % 5 == 4  # a title and a date, no body: kremlin's short news items

    articles(archive, "kremlin", DAY1, 15, 0, headline_only=bare)
    articles(archive, "kremlin", DAY2, 20, 100, headline_only=bare)
    (kremlin,) = check_run(archive.catalog, archive.root, DAY2 + timedelta(hours=20), since=DAY2).sites
    assert kremlin.articles == 20 and kremlin.headline_only == 4 and kremlin.history == 15
    assert kremlin.verdict == OK and kremlin.outliers == 0 and kremlin.flagged == (), kremlin
    assert kremlin.median_chars is not None and kremlin.usual_chars is not None
    assert kremlin.median_chars > 500 and kremlin.usual_chars > 500  # the empty bodies measure nothing
    # in the history, which keeps figures only, a headline-only item is a text with no paragraph
    base = baseline([(0, 0, False)] * 12 + [(1000, 6, False)] * 10, Thresholds())
    assert base is not None and base.chars.usual == 1000 and base.paragraphs.usual == 6
    result = CliRunner().invoke(app, ["check", "--out", str(archive.root), "--since", DAY2.isoformat()])
    table = result.output.splitlines()
    assert table[1].split()[-3:] == ["headlines", "new", "inside"] and table[2].split()[-2:] == ["4", "0"]


def test_the_share_of_the_window_decides_and_odd_json_is_skipped() -> None:
    def window(size: int, carrying: int) -> list[Carrier]:
        box = (Inside("div.box", 1, True),)
        return [Carrier(f"u{i}", box if i < carrying else (), False) for i in range(size)]

    def found(size: int, carrying: int) -> int:
        return len(new_inside(window(size, carrying), DAY1, "rbc", ("--out", "a"), 0.1, 2))

    assert (found(5, 1), found(5, 2)) == (0, 1)  # at least two
    assert (found(42, 4), found(42, 5)) == (0, 1)  # and a tenth of the window
    mixed = [Carrier("a", (Inside("p.x", 1, True),), True), Carrier("b", (Inside("p.x", 2, False),), False)]
    (one,) = new_inside(mixed, DAY1, "rbc", (), 0.1, 2)
    assert one.state == "kept in 1, dropped in 1" and not one.degraded
    assert read_inside([{"signature": "p.x", "count": 2, "kept": False}, {"signature": 3}, "x", None]) == (
        Inside("p.x", 2, False),
    )
    assert read_inside({"signature": "p.x"}) == () and read_inside(None) == ()
