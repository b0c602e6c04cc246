"""Hostile input at the boundaries (issue 15, security): hosts that only look like a site's, sitemaps
that point off-site or fan out without end, a lock file planted as a link, control characters in
what is printed, and an export written over something that is not a regular file."""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from servers import Route, Server, serve
from test_cli import ARTICLE
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from scraper.capture.warc import WarcFile, mark_open
from scraper.cli import app
from scraper.cli.common import one_line, safe
from scraper.errors import ArchiveError, UsageError
from scraper.models import Exchange
from scraper.schedule import discover
from scraper.schedule.discover import Link, candidates, sitemap_links
from scraper.schedule.limits import archive_lock
from scraper.sites import GENERIC, SITES, site_for, sputnik

SM = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'

# --- host names ---------------------------------------------------------------------------

# Names anyone can register (or a subdomain of one), shaped like the sites' own.
LOOK_ALIKES = [
    "sputnik-evil.com",
    "sputnik-abkhazia.ru.attacker.net",
    "sputnik-abkhazia-news.ru",
    "sputniknews.attacker.io",
    "sputniknews-evil.com",
    "sputniknews.cn.evil.org",
    "evilsputnik.by",
    "sputnik.by.evil.com",
    "ria.ru.evil.com",
    "evilria.ru",
    "ria-ru.com",
    "ria.ru-evil.com",
    "xn--ri-8kc.ru",  # "riа.ru" with a Cyrillic а, as IDNA
    "riа.ru",  # the same, as Unicode
    "xn--sputnik-abkhazia-vfc.ru",
    "xn--ria-ru.com",
    "ria.ru%2eevil.com",
    "ria.ru\x00.evil.com",
    "evil..ria.ru",
    "ria.ru..",
    "www.interfax.ru.evil.com",
    "interfax.ru.evil.com",
    "evilinterfax.ru",
    "kremlin.ru.evil.com",
    "evilkremlin.ru",
    "rbc.ru.evil.com",
    "evilrbc.ru",
    "zn.ua.evil.com",
    "evilzn.ua",
    "dt.ua.attacker.net",
]

SPUTNIK_HOSTS = [
    *sputnik.SITE.hosts,
    "m.ria.ru",
    "RIA.RU",
    "ria.ru.",  # the root's dot: the same name
    "ru.sputnik.kz",
    "ru.sputnik.md",
    "ru.sputnik.kg",
    "m.sputnik-abkhazia.ru",
    "sputnik-georgia.com",
    "arm.sputniknews.ru",
    "fr.sputniknews.com",
]


@pytest.mark.parametrize("host", LOOK_ALIKES)
def test_a_look_alike_host_is_no_sites(host: str) -> None:
    assert [site.name for site in SITES if site.serves(host)] == []
    assert site_for(f"https://{host}/20211208/peregovory-1762893471.html") is GENERIC


@pytest.mark.parametrize("url", ["https://ria.ru@evil.com/20211208/a-1762893471.html",
                                 "https://evil.com#@ria.ru/20211208/a-1762893471.html",
                                 "https://evil.com?@ria.ru/20211208/a-1762893471.html"])  # fmt: skip
def test_a_site_name_elsewhere_in_the_url_is_not_its_host(url: str) -> None:
    assert site_for(url) is GENERIC


@pytest.mark.parametrize("host", SPUTNIK_HOSTS)
def test_the_sputnik_family_hosts_are_served(host: str) -> None:
    assert site_for(f"https://{host}/20211208/peregovory-1762893471.html") is sputnik.SITE


def test_sputnik_names_its_domains() -> None:
    assert sputnik.SITE.host_patterns == ()  # a pattern accepts names nobody has checked


# --- discovery: only the site's hosts, and bounded --------------------------------------


def _index(*children: str) -> bytes:
    listed = "".join(f"<sitemap><loc>{url}</loc></sitemap>" for url in children)
    return f'<?xml version="1.0"?><sitemapindex {SM}>{listed}</sitemapindex>'.encode()


def _urlset(*pages: str) -> bytes:
    listed = "".join(f"<url><loc>{url}</loc></url>" for url in pages)
    return f'<?xml version="1.0"?><urlset {SM}>{listed}</urlset>'.encode()


OFF_SITE = [
    "https://sputnik-evil.com/sitemap.xml",
    "https://ria.ru.evil.com/sitemap.xml",
    "http://127.0.0.1:9/sitemap.xml",
    "https://evil.example/sitemap.xml",
]


def test_index_children_on_other_hosts_are_dropped() -> None:
    body = _index("https://ria.ru/a.xml", "https://ru.sputnik.kz/b.xml", *OFF_SITE, "/relative.xml")
    with_site = sitemap_links(body, "https://ria.ru/index.xml", sputnik.SITE)
    assert with_site.sitemaps == ["https://ria.ru/a.xml", "https://ru.sputnik.kz/b.xml", "https://ria.ru/relative.xml"]
    # without a site, only the index's own host
    assert sitemap_links(body, "https://ria.ru/index.xml").sitemaps == [
        "https://ria.ru/a.xml",
        "https://ria.ru/relative.xml",
    ]


def test_sitemap_pages_on_other_hosts_are_dropped() -> None:
    own = "https://ria.ru/20211208/peregovory-1762893471.html"
    body = _urlset(own, *(url.replace("/sitemap.xml", "/20211208/x-1762893472.html") for url in OFF_SITE))
    assert [link.url for link in sitemap_links(body, "https://ria.ru/s.xml", sputnik.SITE).pages] == [own]
    assert [link.url for link in sitemap_links(body, "https://ria.ru/s.xml").pages] == [own]


def test_feed_and_sitemap_links_on_other_hosts_are_no_candidates() -> None:
    own = "https://ria.ru/20211208/peregovory-1762893471.html"
    links = [Link(own, None)] + [Link(f"https://{host}/20211208/x-1762893472.html", None) for host in LOOK_ALIKES]
    links += [Link("http://m.sputnik-evil.com/20211208/x-1762893473.html", None)]  # m. is cut: still not ours
    assert [link.url for link in candidates(links, sputnik.SITE)] == [own]


def test_an_index_gives_at_most_its_newest_children() -> None:
    count = discover.MAX_SITEMAPS_PER_INDEX * 3
    days = [(datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=i)).isoformat() for i in range(count)]
    entries = "".join(  # oldest first, as many sites list them
        f"<sitemap><loc>https://ria.ru/s{i}.xml</loc><lastmod>{day}</lastmod></sitemap>" for i, day in enumerate(days)
    )
    body = f"<sitemapindex {SM}>{entries}</sitemapindex>".encode()
    found = sitemap_links(body, "https://ria.ru/index.xml", sputnik.SITE).sitemaps
    assert len(found) == discover.MAX_SITEMAPS_PER_INDEX
    assert found == [f"https://ria.ru/s{i}.xml" for i in range(count - 1, count - 1 - len(found), -1)]  # newest first


def test_an_index_without_dates_gives_its_first_children() -> None:
    count = discover.MAX_SITEMAPS_PER_INDEX + 5
    found = sitemap_links(_index(*(f"https://ria.ru/s{i}.xml" for i in range(count))), "https://ria.ru/i.xml").sitemaps
    assert found == [f"https://ria.ru/s{i}.xml" for i in range(discover.MAX_SITEMAPS_PER_INDEX)]


def test_a_sitemap_gives_at_most_its_first_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover, "MAX_URLS_PER_SITEMAP", 100)
    body = _urlset(*(f"https://ria.ru/20211208/a-{1762893000 + i}.html" for i in range(250)))
    pages = sitemap_links(gzip.compress(body), "https://ria.ru/s.xml.gz").pages
    assert [link.url for link in pages] == [f"https://ria.ru/20211208/a-{1762893000 + i}.html" for i in range(100)]


def test_an_entry_with_a_million_elements_is_not_kept() -> None:
    junk = "<x/>" * 1_000_000
    body = _urlset("https://ria.ru/20211208/a-1762893471.html").replace(b"</url>", f"{junk}</url>".encode())
    body = body.replace(b"</urlset>", b"<url><loc>https://ria.ru/20211208/b-1762893472.html</loc></url></urlset>")
    pages = sitemap_links(gzip.compress(body), "https://ria.ru/s.xml.gz").pages
    assert [link.url for link in pages] == ["https://ria.ru/20211208/b-1762893472.html"]


def test_a_date_past_the_calendars_end_is_no_date() -> None:
    body = _urlset("https://ria.ru/20211208/a-1762893471.html").replace(
        b"</loc>", b"</loc><lastmod>0001-01-01T00:00:00+01:00</lastmod>"
    )
    assert sitemap_links(body, "https://ria.ru/s.xml").pages == [
        Link("https://ria.ru/20211208/a-1762893471.html", None)
    ]
    index = _index("https://ria.ru/a.xml").replace(b"</loc>", b"</loc><lastmod>9999-12-31T23:59:59-01:00</lastmod>")
    assert sitemap_links(index, "https://ria.ru/i.xml").sitemaps == ["https://ria.ru/a.xml"]


_PARSE_BIG = """
import gzip, resource, sys, time
from scraper.schedule.discover import sitemap_links
entry = "<url><loc>https://ria.ru/20211208/a-%d.html</loc><lastmod>2021-12-08</lastmod></url>\\n"
body = gzip.compress(("<urlset>" + "".join(entry % i for i in range(600_000)) + "</urlset>").encode())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.monotonic()
pages = sitemap_links(body, "https://ria.ru/s.xml.gz").pages
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(len(body), len(pages), grown // 1024, time.monotonic() - started)
"""


def test_a_50_mb_sitemap_is_read_as_a_stream() -> None:
    # 1.6 MB of gzip, 50 MB of XML: read whole into one tree, it took 950 MB
    done = subprocess.run([sys.executable, "-c", _PARSE_BIG], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    size, pages, grown_mb, seconds = done.stdout.split()
    assert int(size) < 2 * 1024 * 1024
    assert int(pages) == discover.MAX_URLS_PER_SITEMAP
    assert int(grown_mb) < 60, done.stdout
    assert float(seconds) < 30


@dataclass
class Run:
    out: Path
    site: Server
    attacker: Server
    stderr: str
    returncode: int


def _rss() -> bytes:
    return b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


@pytest.fixture(scope="module")
def interfax_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """``scraper run --site interfax`` whose sitemap index lists a child on the attacker's host, and
    whose own child sitemap lists an article there too."""
    tmp = tmp_path_factory.mktemp("run")
    attacker_routes = {
        "/child.xml": Route(body=_urlset("https://www.interfax.ru/world/900003"), headers={"Content-Type": "text/xml"}),
        "/world/900002": Route(body=ARTICLE),
        "/world/900003": Route(body=ARTICLE),
    }
    routes = {
        "/robots.txt": Route(status=404),
        "/rss.asp": Route(body=_rss(), headers={"Content-Type": "application/rss+xml"}),
        "/SEO_SiteMapLastChanges.xml": Route(
            body=_index("https://evil.example/child.xml", "https://www.interfax.ru/child.xml"),
            headers={"Content-Type": "text/xml"},
        ),
        "/child.xml": Route(
            body=_urlset("https://www.interfax.ru/world/900001", "https://evil.example/world/900002"),
            headers={"Content-Type": "text/xml"},
        ),
        "/world/900001": Route(body=ARTICLE),
    }
    with ExitStack() as stack:
        site = stack.enter_context(serve(routes))
        attacker = stack.enter_context(serve(attacker_routes))
        (tmp / "run.toml").write_text(
            "\n".join([
                "[output]", 'dir = "out"', "[network]", "timeout = 2", "total_timeout = 5", "retries = 0",
                "backoff = 0", "[politeness]", "delay = 0", "[run]", "use_sitemaps = true", "[network.connect_to]",
                f'"https://www.interfax.ru" = "{site.origin}"', f'"https://evil.example" = "{attacker.origin}"',
                f'"http://evil.example" = "{attacker.origin}"',
            ]) + "\n"
        )  # fmt: skip
        command = ["run", "--config", "run.toml", "--site", "interfax", "--time-budget", "1m"]
        done = subprocess.run(
            [sys.executable, "-m", "scraper", *command], cwd=tmp, capture_output=True, text=True, timeout=120
        )
        yield Run(tmp / "out", site, attacker, done.stderr, done.returncode)


def test_a_run_fetches_nothing_off_site(interfax_run: Run) -> None:
    assert interfax_run.returncode == 0, interfax_run.stderr
    assert interfax_run.attacker.seen == []  # not the child sitemap, not an article, not robots.txt
    asked = [path for path, _ in interfax_run.site.seen]
    assert "/child.xml" in asked and "/world/900001" in asked
    targets = []
    for warc in (interfax_run.out / "warc").glob("*.warc.gz"):
        with open(warc, "rb") as fh:
            targets += [
                r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(fh) if r.rec_type != "warcinfo"
            ]
    assert "https://www.interfax.ru/world/900001" in targets
    assert [url for url in targets if "evil" in url] == []


# --- the lock file ------------------------------------------------------------------------


def _planted(root: Path, kind: str, victim: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lock = root / ".scraper.lock"
    if kind == "symlink":
        lock.symlink_to(victim)
    elif kind == "dangling":
        lock.symlink_to(victim.with_name("created-through-the-link"))
    elif kind == "hardlink":
        os.link(victim, lock)
    elif kind == "fifo":
        os.mkfifo(lock)
    else:
        lock.mkdir()
    return lock


@pytest.mark.parametrize("kind", ["symlink", "dangling", "hardlink", "fifo", "directory"])
def test_a_lock_file_that_is_no_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    _planted(tmp_path / "out", kind, victim)
    with pytest.raises(UsageError) as raised, archive_lock(tmp_path / "out"):
        pytest.fail("the lock was taken")
    assert "\n" not in str(raised.value) and ".scraper.lock" in str(raised.value)
    assert victim.read_text() == "precious"
    assert not (tmp_path / "created-through-the-link").exists()


def test_run_with_a_symlinked_lock_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    _planted(tmp_path / "out", "symlink", victim)
    result = CliRunner().invoke(app, ["run", "--out", "out", "--site", "interfax", "--quiet"])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and "symlink" in result.output
    assert victim.read_text() == "precious"


def test_a_regular_lock_file_is_taken_and_emptied_after(tmp_path: Path) -> None:
    with archive_lock(tmp_path):
        assert (tmp_path / ".scraper.lock").read_text() == str(os.getpid())
    assert (tmp_path / ".scraper.lock").read_text() == ""


# --- control characters never reach the terminal -------------------------------------------

EVIL = "\x1b[2J\x1b]0;title\x07"


def test_safe_escapes_every_control_character_but_line_breaks() -> None:
    assert safe(f"a{EVIL}\r\b\x9b\u202e\x7f\n\tz") == "a\\x1b[2J\\x1b]0;title\\x07\\x0d\\x08\\x9b\\u202e\\x7f\n\tz"
    assert safe("Москва — 10:00 [bold] :smile:") == "Москва — 10:00 [bold] :smile:"
    assert (
        one_line("error: https://ria.ru/x\nerror: forged\x1b[2J") == "error: https://ria.ru/x\\nerror: forged\\x1b[2J"
    )


def _crafted_warc(out: Path, text_named: str | None) -> Path:
    warc = out / "warc" / "crafted.warc.gz"
    page = f"<html><body><p>{EVIL}</p></body></html>".encode()
    exchange = Exchange(f"https://www.interfax.ru/world/3?q={EVIL}", datetime(2026, 1, 1, tzinfo=UTC), "GET", (),
                        "HTTP/1.1", 200, "OK", (("Content-Type", "text/html; charset=utf-8"),), page)  # fmt: skip
    meta = {"software": "scraper/test"} | ({"scraper-text": text_named} if text_named else {})
    with WarcFile(warc, "warc/crafted.warc.gz") as file:
        file.write_warcinfo({"software": "scraper/test"})
        file.write_exchange(exchange, meta)
    return warc


def _terminal_safe(said: str) -> None:
    assert not any(c in said for c in "\x1b\x07\x9b\r\b"), repr(said)
    # escaped by the console, or by JSON (--json) before it
    assert "\\x1b[2J\\x1b]0;title\\x07" in said or "\\u001b[2J\\u001b]0;title\\u0007" in said, said


@pytest.mark.parametrize("text_named", [None, "text/x/000_0123456789abcdef"], ids=["no-text", "other-text"])
def test_parse_prints_no_raw_control_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text_named: str | None
) -> None:
    monkeypatch.chdir(tmp_path)
    warc = _crafted_warc(tmp_path / "out", text_named)
    for args in ([], ["--json"]):
        result = CliRunner().invoke(app, ["parse", str(warc), *args])
        _terminal_safe(result.output)


def test_reclean_prints_no_raw_control_characters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    _crafted_warc(out, "text/x/000_0123456789abcdef")  # a failure whose reason names the URL
    result = CliRunner().invoke(app, ["reclean", str(out / "warc"), "--out", str(out)])
    assert result.exit_code == 1, result.output
    _terminal_safe(result.output)


# --- export --output ----------------------------------------------------------------------


def _export(run: Run, output: Path, fmt: str = "jsonl") -> tuple[int, str]:
    result = CliRunner().invoke(app, ["export", "--out", str(run.out), "--format", fmt, "--output", str(output)])
    return result.exit_code, result.output


def test_export_creates_a_new_file_and_replaces_a_regular_one(interfax_run: Run, tmp_path: Path) -> None:
    new = tmp_path / "new.jsonl"
    assert _export(interfax_run, new)[0] == 0
    assert "world/900001" in new.read_text()
    new.write_text("old")
    assert _export(interfax_run, new)[0] == 0
    assert "world/900001" in new.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["new.jsonl"]  # no temporary file left


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_export_writes_through_a_symlink(interfax_run: Run, tmp_path: Path, fmt: str) -> None:
    target, link = tmp_path / "target", tmp_path / "link"
    target.write_text("old")
    link.symlink_to(target)
    code, said = _export(interfax_run, link, fmt)
    assert code == 0, said
    assert link.is_symlink() and os.readlink(link) == str(target)
    if fmt == "parquet":
        assert pq.read_table(target).column("url").to_pylist() == ["https://www.interfax.ru/world/900001"]
    else:
        assert "world/900001" in target.read_text()


def test_export_through_a_dangling_symlink_creates_its_target(interfax_run: Run, tmp_path: Path) -> None:
    target, link = tmp_path / "later.jsonl", tmp_path / "link"
    link.symlink_to(target.name)  # relative, as ln -s writes it
    assert _export(interfax_run, link)[0] == 0
    assert link.is_symlink() and "world/900001" in target.read_text()


def _special(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # /dev/null's numbers
        except PermissionError:
            pytest.skip("making a device node needs CAP_MKNOD")


@pytest.mark.parametrize("through_link", [False, True], ids=["direct", "symlink"])
@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_export_refuses_anything_but_a_regular_file(
    interfax_run: Run, tmp_path: Path, kind: str, through_link: bool
) -> None:
    special = tmp_path / "special"
    _special(special, kind)
    given = special
    if through_link:
        given = tmp_path / "link"
        given.symlink_to(special)
    code, said = _export(interfax_run, given)
    assert code == 2, said
    assert len(said.strip().splitlines()) == 1 and "regular file" in said, said
    mode = os.lstat(special).st_mode
    assert {"fifo": stat.S_ISFIFO, "directory": stat.S_ISDIR, "device": stat.S_ISCHR}[kind](mode)
    assert not through_link or given.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({special.name, given.name})


@pytest.mark.parametrize("folder", ["text", "warc"])
@pytest.mark.parametrize("command", [["run", "--site", "interfax", "-q"], ["status"], ["export"], ["index"], ["check"]])
def test_a_symlinked_archive_folder_leading_out_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: str, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / folder).symlink_to(outside)
    result = CliRunner().invoke(app, [*command, "--out", "out"])
    assert result.exit_code == 2, result.output
    assert result.output == f"error: out/{folder}: leads out of the archive (to {outside}): refused\n"
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("appending", [False, True], ids=["a new file", "a file continued"])
def test_a_warc_folder_swapped_for_a_symlink_after_the_check_gets_no_file_outside(
    tmp_path: Path, appending: bool
) -> None:
    """The run checks warc/ before it starts; a swap during the run is caught where a file is opened."""
    root, outside = tmp_path / "out", tmp_path / "outside"
    (root / "warc").mkdir(parents=True)
    outside.mkdir()
    name = "rbc-20240501T120000Z-00000.warc.gz"
    if appending:
        with WarcFile(root / "warc" / name, f"warc/{name}", root=root) as first:
            first.write_warcinfo({"software": "test"})
        (outside / name).write_bytes(b"")  # what a continued file would be appended to, out there
    (root / "warc").rename(root / "moved")
    (root / "warc").symlink_to(outside)
    with pytest.raises(ArchiveError, match="leads out of the archive"):
        WarcFile(root / "warc" / name, f"warc/{name}", append=appending, root=root)
    with pytest.raises(ArchiveError, match="leads out of the archive"):  # nor its .open marker
        mark_open(root / "warc" / name, root)
    assert [p.stat().st_size for p in outside.iterdir()] == ([0] if appending else [])


def test_a_text_json_that_is_a_symlink_out_is_not_read(interfax_run: Run, tmp_path: Path) -> None:
    """The writer never makes a symlink: one there (to a file out of the archive) is said, not read."""
    out = tmp_path / "out"
    shutil.copytree(interfax_run.out, out)
    (meta,) = (out / "text").rglob("*.json")
    outside = tmp_path / "outside.json"
    outside.write_bytes(meta.read_bytes())
    meta.unlink()
    meta.symlink_to(outside)
    result = CliRunner().invoke(app, ["verify", str(out)])
    assert result.exit_code == 1
    said = result.stdout.splitlines()
    assert any("a symbolic link, not read" in line for line in said), said
    assert any("is no regular file in the archive" in line for line in said), said
    assert not any("is missing" in line for line in said), said
    code, told = _export(Run(out, interfax_run.site, interfax_run.attacker, "", 0), tmp_path / "rows.jsonl")
    assert code == 1 and "a symbolic link, not read" in told, told
