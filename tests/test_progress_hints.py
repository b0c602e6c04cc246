"""Issue 16, in one voice: progress bars with a total (reclean in bytes, run in articles found due),
snapshot hints that work as printed, and three inputs that must be one `error:` line and exit 2."""

from __future__ import annotations

import shlex
import shutil
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from test_quality import DAY1, Archive, day_of_articles
from test_run import World
from test_snapshot import RBC, stored
from typer.testing import CliRunner

from scraper.cli import app, pages, runs
from scraper.config import Settings, load_settings
from scraper.pipeline.reread import reclean
from scraper.schedule.limits import Budget
from scraper.schedule.run import Progressed, scheduled_run
from scraper.sites import by_name

TESTS = Path(__file__).resolve().parent
WARCS = sorted((TESTS / "fixtures").glob("*/*.warc.gz"))[:3]


class FakeBar:
    """What the commands do to rich's bar, without a terminal: its total and where it is."""

    def __init__(self) -> None:
        self.task_ids = [0]
        self.total: float | None = None
        self.completed = 0.0
        self.totals: list[float] = []
        self.console = self

    def update(self, task_id: Any, *, total: float | None = None, completed: float | None = None,
               advance: float | None = None) -> None:  # fmt: skip
        if total is not None:
            self.total = total
            self.totals.append(total)
        self.completed = completed if completed is not None else self.completed + (advance or 0)

    def advance(self, task_id: Any, advance: float = 1) -> None:
        self.completed += advance

    def print(self, *objects: Any, **options: Any) -> None:
        pass


@pytest.fixture
def bar(monkeypatch: pytest.MonkeyPatch) -> FakeBar:
    made = FakeBar()

    @contextmanager
    def progress(total: int | None, label: str, quiet: bool, in_bytes: bool = False) -> Iterator[FakeBar]:
        made.total = total
        yield made

    monkeypatch.setattr(pages, "progress", progress)
    monkeypatch.setattr(runs, "progress", progress)
    return made


def warc_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "out" / "warc"
    folder.mkdir(parents=True)
    for warc in WARCS:
        shutil.copy(warc, folder / warc.name)
    shutil.copy(WARCS[0], folder / f"copy-{WARCS[0].name}")  # passed over as a copy: its bytes count as read
    return folder


# --- progress with a total ------------------------------------------------------------------------


def test_reclean_says_how_far_it_is_in_bytes_of_a_total_known_at_once(tmp_path: Path) -> None:
    folder = warc_folder(tmp_path)
    total = sum(p.stat().st_size for p in folder.iterdir())
    told: list[tuple[int, int]] = []
    report = reclean([folder], Settings(out=tmp_path / "out"), on_read=lambda read, of: told.append((read, of)))
    assert len(told) == len(report.outcomes) + 1 and {of for _, of in told} == {total}
    reads = [read for read, _ in told]
    assert reads == sorted(reads) and reads[0] < total and reads[-1] == total
    assert len(set(reads)) > len(WARCS)  # record by record, not file by file


def test_the_reclean_bar_counts_bytes_to_its_total(tmp_path: Path, bar: FakeBar) -> None:
    folder = warc_folder(tmp_path)
    result = CliRunner().invoke(app, ["reclean", str(folder)])
    assert result.exit_code == 0, result.output
    assert bar.total == bar.completed == sum(p.stat().st_size for p in folder.iterdir())


def test_the_run_bar_total_grows_as_sites_find_articles_due_up_to_max_articles() -> None:
    fake = FakeBar()
    tell = runs.RunBar(fake, most=5)
    for event in (Progressed(due=3), Progressed(done=1), Progressed(due=4), Progressed(done=1)):
        tell(event)
    assert fake.totals == [3, 3, 5, 5] and fake.completed == 2
    threads = [threading.Thread(target=tell, args=(Progressed(due=1, done=1),)) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert fake.total == 5 and fake.completed == 52


def test_a_run_tells_what_it_found_due_and_each_article_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bar: FakeBar
) -> None:
    monkeypatch.chdir(tmp_path)
    world, site = World(tmp_path), by_name("kremlin")
    events: list[Progressed] = []
    with ExitStack() as stack:
        world.start(stack)
        settings = load_settings(tmp_path / "run.toml", env={})
        scheduled_run(settings, [site], Budget(None, 60, threading.Event()), events.append)
        expected = world.expected(site)
        assert expected > 0 and [e.due for e in events if e.due] == [expected]
        assert sum(e.done for e in events) == expected and events[0].due == expected  # the total first
        world.add_to_feed(site, "http://kremlin.ru/events/president/news/99999", world.pages["kremlin"][0][1:])
        result = CliRunner().invoke(app, ["run", "--config", "run.toml", "--site", "kremlin", "--quiet"])
    assert result.exit_code in (0, 1), result.output  # 1: the quality check of a tiny archive
    assert set(bar.totals) == {1} and bar.completed == 1  # the one article new to the feed


# --- hints that work as printed ------------------------------------------------------------------


def test_the_snapshot_command_check_prints_works_from_another_folder(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    day_of_articles(archive, DAY1, gone="rbc", per_site=3)
    archive.close()
    (tmp_path / "run.toml").write_text("[network]\ntimeout = 5\n")
    monkeypatch.chdir(tmp_path)
    checked = CliRunner().invoke(app, ["check", "-o", "archives", "--config", "run.toml", "--since", DAY1.isoformat()])
    command = next(line for line in checked.output.splitlines() if line.strip().startswith("scraper snapshot"))
    words = shlex.split(command)
    assert words[words.index("--out") + 1] == str(archive.root.resolve())
    assert words[words.index("--config") + 1] == str((tmp_path / "run.toml").resolve())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(app, [*words[1:], "--fixtures", str(tmp_path / "fx")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "fx" / "rbc").glob("*.json"))) == 1


def test_snapshot_writes_into_the_checkout_it_runs_in_and_elsewhere_asks_for_fixtures(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = stored(RBC).capture
    archive.article("rbc", page.url, page.fetched_at, page.body)
    archive.close()
    args = ["snapshot", page.url, "--out", str(archive.root), "--name", "snap"]
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.chdir(outside)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and result.output.startswith("error: "), result.output
    assert len(result.output.strip().splitlines()) == 1 and "--fixtures" in result.output
    assert not list(outside.iterdir())
    checkout = tmp_path / "checkout"
    for folder in (checkout / "scraper", checkout / "tests" / "fixtures", checkout / "docs"):
        folder.mkdir(parents=True)
    (checkout / "pyproject.toml").write_text('[project]\nname = "scraper"\n')
    (checkout / "scraper" / "__init__.py").write_text("")
    monkeypatch.chdir(checkout / "docs")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (checkout / "tests" / "fixtures" / "rbc" / "snap.warc.gz").is_file()
    assert not list((checkout / "docs").iterdir())


# --- one line, exit 2 ----------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["notaurl", "tcp://host", "tcp://host:99999", "http://host:8786", "host:port"])
def test_reclean_refuses_a_scheduler_that_is_no_address(tmp_path: Path, address: str) -> None:
    folder = warc_folder(tmp_path)
    result = CliRunner().invoke(app, ["reclean", str(folder), "--scheduler", address])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line == f"error: --scheduler {address}: not a Dask scheduler address: give tcp://HOST:PORT"


def test_parse_asks_for_url_when_the_canonical_link_is_relative(tmp_path: Path) -> None:
    saved = tmp_path / "page.html"
    body = stored(RBC).capture.body.decode("utf-8", "replace")
    saved.write_text(body.replace("<head>", '<head><link rel="canonical" href="63953.html">', 1), encoding="utf-8")
    result = CliRunner().invoke(app, ["parse", str(saved)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"error: {saved}: its canonical link '63953.html'") and line.endswith("pass --url")
    given = CliRunner().invoke(app, ["parse", str(saved), "--url", stored(RBC).capture.url])
    assert given.exit_code == 0 and "(rbc/" in given.output, given.output


def test_hints_carry_the_config_read_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """./config.toml, read without --config, is named in the hints all the same, absolute."""
    from scraper.cli.common import config_used

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCRAPER_CONFIG", raising=False)
    assert config_used(None) is None
    (tmp_path / "config.toml").write_text("")
    assert config_used(None) == (tmp_path / "config.toml").resolve()
    monkeypatch.setenv("SCRAPER_CONFIG", "other.toml")
    assert config_used(None) == (tmp_path / "other.toml").resolve()
