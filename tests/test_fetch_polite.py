"""``scraper fetch`` goes through the same pipeline and politeness as a scheduled run: robots.txt
once per host, the per-host delay, and a re-clean of its archive keeps every name."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from servers import Route, serve
from test_cli import ARTICLE
from typer.testing import CliRunner

from scraper.cli import app

ROBOTS = Route(body=b"User-agent: *\nDisallow: /private/\n", headers={"Content-Type": "text/plain"})


def fetch(origin: str, tmp_path: Path, *paths: str, delay: float = 0.0, extra: tuple[str, ...] = ()) -> tuple[int, str]:
    config = tmp_path / "polite.toml"
    config.write_text(f"[politeness]\ndelay = {delay}\n[network]\nretries = 0\n")
    urls = [f"https://www.interfax.ru{p}" for p in paths]
    args = ["fetch", "--config", str(config), "--out", str(tmp_path / "out"), *extra]
    result = CliRunner().invoke(app, [*args, "--connect-to", f"https://www.interfax.ru={origin}", *urls])
    return result.exit_code, result.output


def test_fetch_keeps_the_delay_and_asks_for_robots_once(tmp_path: Path) -> None:
    routes = {f"/world/{n}": Route(body=ARTICLE) for n in range(10)}
    with serve({**routes, "/robots.txt": ROBOTS, "/private/1": Route(body=ARTICLE)}) as server:
        started = time.monotonic()
        code, said = fetch(server.origin, tmp_path, *routes, "/private/1", delay=0.5)
        took = time.monotonic() - started
        asked = [path for path, _ in server.seen]
    assert code == 0, said
    assert took >= 4.9  # robots.txt and ten pages on one host, each half a second after the one before
    assert asked.count("/robots.txt") == 1 and "/private/1" not in asked
    assert "skipped: https://www.interfax.ru/private/1: disallowed by robots.txt" in said
    assert "10 articles" in said


def test_ignore_robots_is_a_one_off_flag(tmp_path: Path) -> None:
    with serve({"/robots.txt": ROBOTS, "/private/1": Route(body=ARTICLE)}) as server:
        code, said = fetch(server.origin, tmp_path, "/private/1", extra=("--ignore-robots",))
        asked = [path for path, _ in server.seen]
    assert code == 0, said
    assert asked == ["/private/1"]


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
def test_reclean_of_a_fetch_archive_with_a_redirect_keeps_every_name(tmp_path: Path, gz: bool) -> None:
    routes = {
        "/robots.txt": ROBOTS,
        "/old/1": Route(status=301, body=b"", headers={"Location": "/world/1"}),
        "/world/1": Route(body=ARTICLE),
        "/world/2": Route(body=ARTICLE.replace(b"\xd0\x9d", b"\xd0\x9f")),
    }
    with serve(routes) as server:
        code, said = fetch(server.origin, tmp_path, "/world/2", "/old/1")
    assert code == 0, said
    out = tmp_path / "out"
    before = {p.relative_to(out): p.read_bytes() for p in (out / "text").rglob("*") if p.is_file()}
    assert sorted(p.name[:3] for p in before) == ["000", "000", "001", "001"]
    if not gz:  # the same records, uncompressed: read back and re-cleaned alike
        import gzip

        warc = next((out / "warc").glob("*.warc.gz"))
        warc.with_suffix("").write_bytes(gzip.decompress(warc.read_bytes()))
        warc.unlink()
    for name in list(before):
        (out / name).unlink()  # a re-clean restores them
    result = CliRunner().invoke(app, ["reclean", "--out", str(out), str(out / "warc")])
    assert result.exit_code == 0, result.output
    after = {p.relative_to(out): p.read_bytes() for p in (out / "text").rglob("*") if p.is_file()}
    assert set(after) == set(before)
    assert {k: v for k, v in after.items() if k.suffix == ".txt"} == {
        k: v for k, v in before.items() if k.suffix == ".txt"
    }
    again = CliRunner().invoke(app, ["reclean", "--out", str(out), str(out / "warc")])
    assert "(0 changed," in again.output and "0 failed" in again.output, again.output


def test_a_redirect_to_a_host_no_resolver_takes_fails_that_url_only(tmp_path: Path) -> None:
    bad = "https://" + "a" * 64 + ".example/x"
    routes = {
        "/robots.txt": ROBOTS,
        "/old/1": Route(status=301, headers={"Location": bad}),
        "/world/2": Route(body=ARTICLE),
    }
    with serve(routes) as server:
        code, said = fetch(server.origin, tmp_path, "/old/1", "/world/2")
    assert code == 1, said
    assert "failed: https://www.interfax.ru/old/1: redirect to a bad URL" in said
    assert "1 articles" in said or "1 article" in said
