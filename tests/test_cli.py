"""Every bad input gets a one-line message naming the URL or file, keeps what was fetched in the
WARC, writes nothing outside the output folder, and sets the exit code (1 failed pages, 2 usage)."""

from __future__ import annotations

import gzip
import os
import socket
from pathlib import Path

import httpx
import pytest
from pytest_httpx import HTTPXMock
from servers import Route, serve
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from scraper.cli import app

ARTICLE = (
    "<html><head><meta charset='utf-8'><title>Новость</title></head><body><h1>Новость дня</h1>"
    "<article itemprop='articleBody'><p>Москва. ИНТЕРФАКС - Первый абзац новости, достаточно длинный.</p>"
    "<p>Второй абзац новости с подробностями о событии.</p></article></body></html>"
).encode()


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fast.toml").write_text("[network]\nbackoff = 0.01\nretries = 1\ntimeout = 1\n")

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(app, ["--config", "fast.toml", *args] if args[0] != "--version" else list(args))

    return invoke


def cli(run, *args: str):  # type: ignore[no-untyped-def]
    command, rest = args[0], args[1:]
    return CliRunner().invoke(app, [command, "--config", "fast.toml", "--out", "out", *rest])


def responses(out: Path) -> list[tuple[str, int, str | None]]:
    """The page responses archived (robots.txt, which every fetch asks for first, left out)."""
    found = []
    for warc in sorted((out / "warc").glob("*.warc.gz")):
        with open(warc, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response" and not record.rec_headers.get_header("WARC-Target-URI").endswith(
                    "/robots.txt"
                ):
                    found.append(
                        (
                            record.rec_headers.get_header("WARC-Target-URI"),
                            int(record.http_headers.get_statuscode()),
                            record.rec_headers.get_header("WARC-Truncated"),
                        )
                    )
    return found


def only_out_written(tmp_path: Path) -> bool:
    return sorted(p.name for p in tmp_path.iterdir()) == ["fast.toml", "out"]


def fetch_from(server_origin: str, run, *paths: str):  # type: ignore[no-untyped-def]
    urls = [f"https://www.interfax.ru{p}" for p in paths]
    return cli(run, "fetch", "--connect-to", f"https://www.interfax.ru={server_origin}", *urls)


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (Route(status=404, body=b"not here"), "HTTP 404"),
        (Route(status=410, body=b"gone"), "HTTP 410"),
        (Route(body=b"%PDF-1.7 binary"), "not HTML: PDF"),
        (Route(body=b"\x89PNG\r\n\x1a\nxx", headers={"Content-Type": "image/png"}), "not HTML: PNG image"),
        (Route(body=b""), "empty body"),
        (Route(body=b"<html><body><nav><a href='/'>Main</a></nav></body></html>"), "no article text found"),
    ],
    ids=["404", "410", "pdf-as-html", "image", "empty", "no-article"],
)
def test_pages_without_an_article(run, tmp_path: Path, route: Route, reason: str) -> None:  # type: ignore[no-untyped-def]
    with serve({"/world/1": route, "/world/2": Route(body=ARTICLE)}) as server:
        result = fetch_from(server.origin, run, "/world/1", "/world/2")
    assert result.exit_code == 1
    assert f"failed: https://www.interfax.ru/world/1: {reason}" in result.output.splitlines()
    assert [r[:2] for r in responses(tmp_path / "out")] == [
        ("https://www.interfax.ru/world/1", route.status),
        ("https://www.interfax.ru/world/2", 200),
    ]
    assert len(list((tmp_path / "out" / "text").rglob("001_*.txt"))) == 1
    assert only_out_written(tmp_path)


def test_malformed_html_still_yields_its_text(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = (
        "<html><body><h1>Заголовок<article itemprop='articleBody'><p>Первый абзац <b>без <i>закрытия тегов".encode()
    )
    with serve({"/world/1": Route(body=broken + b"<p>\x00second</p></td></tr>")}) as server:
        result = fetch_from(server.origin, run, "/world/1")
    assert result.exit_code == 0, result.output
    text = next((tmp_path / "out" / "text").rglob("000_*.txt")).read_text()
    assert "Первый абзац без закрытия тегов" in text


def test_redirect_loop(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    routes = {
        "/world/a": Route(status=302, headers={"Location": "/world/b"}),
        "/world/b": Route(status=302, headers={"Location": "/world/a"}),
    }
    with serve(routes) as server:
        result = fetch_from(server.origin, run, "/world/a")
    assert result.exit_code == 1
    assert "failed: https://www.interfax.ru/world/a: redirect loop at https://www.interfax.ru/world/a" in result.output
    assert len(responses(tmp_path / "out")) == 2


def test_connection_reset_mid_body_keeps_what_came(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serve({"/world/1": Route(body=ARTICLE, reset_after=100)}) as server:
        result = fetch_from(server.origin, run, "/world/1")
    assert result.exit_code == 1
    assert "failed: https://www.interfax.ru/world/1: connection lost after " in result.output
    assert responses(tmp_path / "out") == [("https://www.interfax.ru/world/1", 200, "disconnect")] * 2


def test_body_shorter_than_its_content_length(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serve({"/world/1": Route(body=ARTICLE, close_after=100)}) as server:
        result = fetch_from(server.origin, run, "/world/1")
    assert result.exit_code == 1
    assert "failed: https://www.interfax.ru/world/1: connection lost after 100 bytes: peer closed" in result.output
    with open(next((tmp_path / "out" / "warc").glob("*.warc.gz")), "rb") as fh:
        kept = [
            r.content_stream().read()
            for r in ArchiveIterator(fh)
            if r.rec_type == "response" and not r.rec_headers.get_header("WARC-Target-URI").endswith("/robots.txt")
        ]
    assert kept == [ARTICLE[:100]] * 2


def test_timeout(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serve({"/world/1": Route(body=ARTICLE, stall=2.5)}) as server:
        result = fetch_from(server.origin, run, "/world/1")
    assert result.exit_code == 1
    assert "failed: https://www.interfax.ru/world/1: connection lost after 0 bytes: timed out" in result.output


def test_unreachable_host(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = fetch_from(f"http://127.0.0.1:{port}", run, "/world/1")
    assert result.exit_code == 1
    # robots.txt is asked for first: a host that cannot be reached fails there, and nothing else is sent
    assert "failed: https://www.interfax.ru/world/1: robots.txt unreachable: connection failed:" in result.output
    assert only_out_written(tmp_path)


def test_dns_failure(run, httpx_mock: HTTPXMock) -> None:  # type: ignore[no-untyped-def]
    httpx_mock.add_exception(httpx.ConnectError("[Errno -2] Name or service not known"), is_reusable=True)
    result = cli(run, "fetch", "https://no-such-host.example/news/1")
    assert result.exit_code == 1
    assert (
        "failed: https://no-such-host.example/news/1: robots.txt unreachable: connection failed: "
        "[Errno -2] Name or service not known" in result.output
    )


@pytest.mark.parametrize("url", ["ftp://example.org/file", "javascript:alert(1)", "www.interfax.ru/world/1"])
def test_url_that_is_not_http(run, tmp_path: Path, url: str) -> None:  # type: ignore[no-untyped-def]
    result = cli(run, "fetch", url)
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {url!r}: not an http(s) URL"
    assert not (tmp_path / "out").exists()


def test_urls_from_a_missing_file(run) -> None:  # type: ignore[no-untyped-def]
    result = cli(run, "fetch", "--from-file", "nope.txt")
    assert result.exit_code == 2 and "nope.txt" in result.output


@pytest.mark.parametrize("command", ["reclean", "parse"])
def test_missing_warc_path(run, command: str) -> None:  # type: ignore[no-untyped-def]
    args = [command, "missing.warc.gz", "--config", "fast.toml"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: missing.warc.gz: no such file")


def test_corrupt_and_truncated_warcs(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serve({f"/world/{i}": Route(body=ARTICLE) for i in range(3)}) as server:
        assert fetch_from(server.origin, run, "/world/0", "/world/1", "/world/2").exit_code == 0
    warc = next((tmp_path / "out" / "warc").glob("*.warc.gz"))
    data = warc.read_bytes()
    (tmp_path / "out2" / "warc").mkdir(parents=True)
    torn = tmp_path / "out2" / "warc" / "torn.warc.gz"
    torn.write_bytes(data[: int(len(data) * 0.7)])
    garbage = tmp_path / "out2" / "warc" / "garbage.warc.gz"
    garbage.write_bytes(gzip.compress(b"this is not a WARC record\r\n\r\n"))
    result = CliRunner().invoke(app, ["reclean", str(torn), str(garbage)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith(f"failed: {torn}: at offset ") and "skipped" in line for line in lines), lines
    assert f"failed: {garbage}: at offset 0: not a WARC record" in lines
    assert len(list((tmp_path / "out2" / "text").rglob("*.txt"))) >= 1  # records before the tear


def test_unwritable_output_folder(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "blocker").write_text("a file where a folder should be")
    result = CliRunner().invoke(app, ["fetch", "--out", "blocker/out", "https://www.interfax.ru/world/1"])
    assert result.exit_code == 2
    assert result.output == "error: blocker/out: cannot use as the archive: Not a directory\n"  # before any fetch


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[network]\ntimeout = "soon"\n', "network.timeout must be a number, without quotes, got 'soon'"),
        ('[network]\ntimeout = "3"\n', "network.timeout must be a number, without quotes, got '3'"),
        (
            '[politeness]\nobey_robots = "no"\n',
            "politeness.obey_robots must be true or false, without quotes, got 'no'",
        ),
        ("[network]\nretries = 1.5\n", "network.retries must be a whole number from 0 to 100, got 1.5"),
        ("[network]\ntimout = 3\n", "unknown key network.timout"),
        ('[network]\nconnect_to = { "ftp://x" = "http://127.0.0.1:1" }\n', "'ftp://x' is not an http(s) origin"),
        ("[network\n", "not valid TOML"),
    ],
)
def test_bad_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.toml").write_text(toml)
    result = CliRunner().invoke(app, ["fetch", "--config", "bad.toml", "https://www.interfax.ru/world/1"])
    assert result.exit_code == 2
    assert result.output.startswith("error: bad.toml: ") and message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert os.listdir(tmp_path) == ["bad.toml"]


def test_every_command_has_help() -> None:
    for command in ([], ["fetch"], ["reclean"], ["parse"], ["sites"]):
        result = CliRunner().invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output
