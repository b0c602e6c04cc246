"""Hostile and absurd input is refused in one line with exit code 2, never a traceback, never a
wait or a read without end: config values (nan, inf, zero where zero means nothing works, jobs by
the thousand, a user agent that would split a header), URL lists that never end, URLs that cannot
be fetched, durations past what a datetime holds. ``canonical`` takes any string without raising,
since a redirect's Location or a feed's link is network data."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import threading
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scraper.cli import app
from scraper.cli import pages as pages_cli
from scraper.config import MAX_DURATION, Settings, load_settings, max_jobs, parse_duration
from scraper.errors import ConfigError, UsageError
from scraper.sites import SITES
from scraper.urls import canonical, check_http, url_hash, url_problem

ROOT = Path(__file__).resolve().parents[1]
URL = "https://www.interfax.ru/world/1"

# every number of the config file, by hand: the test below checks that none is missing
NUMBERS = {
    "network.timeout": "timeout",
    "network.total_timeout": "total_timeout",
    "network.max_redirects": "max_redirects",
    "network.max_body_bytes": "max_body_bytes",
    "network.retries": "retries",
    "network.backoff": "backoff",
    "network.backoff_max": "backoff_max",
    "network.retry_after_max": "retry_after_max",
    "output.warc_max_bytes": "warc_max_bytes",
    "politeness.delay": "delay",
    "run.max_attempts": "max_attempts",
    "run.retry_backoff": "retry_backoff",
    "run.jobs": "run_jobs",
    "reclean.jobs": "jobs",
    "politeness.crawl_delay_max": "crawl_delay_max",
    "run.max_sitemaps": "max_sitemaps",
    "run.discovery_share": "discovery_share",
    "extract.time_limit": "extract_seconds",
    "extract.memory_mb": "extract_memory_mb",
}


def one_line_error(result, starts: str, says: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    assert result.output.startswith(starts) and says in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "Traceback" not in result.output


def settings_from(tmp_path: Path, text: str) -> Settings:
    config = tmp_path / "c.toml"
    config.write_text(text)
    return load_settings(config, env={})


def toml(key: str, value: str) -> str:
    section, name = key.split(".")
    return f"[{section}]\n{name} = {value}\n"


# --- config ---------------------------------------------------------------------------------------


def test_every_number_of_the_schema_is_in_this_test() -> None:
    numbers = {f.name for f in fields(Settings) if str(f.type) in ("int", "float")}
    assert numbers == set(NUMBERS.values())


@pytest.mark.parametrize("key", sorted(NUMBERS))
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "1e300"])
def test_no_number_takes_nan_inf_a_negative_or_an_absurd_size(tmp_path: Path, key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=rf"c\.toml: {key} must be"):
        settings_from(tmp_path, toml(key, value))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("network.max_body_bytes", "0", "must be from 1 to 1073741824, got 0"),
        ("run.max_attempts", "0", "must be from 1 to 1000, got 0"),
        ("network.timeout", "0", "must be from 0.001 to 86400, got 0"),
        ("network.timeout", "inf", "must be a finite number, got inf"),
        ("network.timeout", "nan", "must be a number from 0.001 to 86400, got nan"),
        ("run.retry_backoff", "inf", "must be a finite number, got inf"),
        ("output.warc_max_bytes", "1000", "must be at least 65536, got 1000"),
        ("reclean.jobs", "10000", f"must be from 1 to {max_jobs()}, got 10000"),
        ("run.jobs", "10000", f"must be from 1 to {max_jobs()}, got 10000"),
        ("reclean.jobs", "0", "got 0"),
    ],
)
def test_nonsensical_values_are_refused_with_the_range(tmp_path: Path, key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        settings_from(tmp_path, toml(key, value))


def test_the_bounds_leave_room_for_real_machines_and_the_shipped_config(tmp_path: Path) -> None:
    assert max_jobs() >= 32 and max_jobs() >= 4 * (os.cpu_count() or 1)
    settings = settings_from(tmp_path, toml("reclean.jobs", "32") + toml("output.warc_max_bytes", "65536"))
    assert settings.jobs == 32 and settings.warc_max_bytes == 65536
    assert load_settings(ROOT / "config.toml", env={}) == Settings()


@pytest.mark.parametrize(
    ("agent", "message"),
    [
        ('"bot\\r\\nX-Evil: 1"', r"control character '\\r'"),
        ('"bot\\nX-Evil: 1"', r"control character '\\n'"),
        ('"bot\\u0000"', r"control character '\\x00'"),
        ('"bot\\u007f"', r"control character '\\x7f'"),
        ('"bot\\u0085"', r"control character '\\x85'"),
        ('"бот/1.0"', "non-ASCII character 'б'"),
        ('"   "', "must be a non-empty string"),
        (f'"{"x" * 513}"', "at most 512 characters"),
    ],
)
def test_a_user_agent_that_is_no_header_value_is_refused(tmp_path: Path, agent: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from(tmp_path, toml("network.user_agent", agent))


def test_a_config_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_bytes('\ufeff[network]\nretries = 7\nuser_agent = "bot/1"\n'.encode())
    settings = load_settings(config, env={})
    assert settings.retries == 7 and settings.user_agent == "bot/1"


def test_a_config_that_never_ends_is_refused_unread() -> None:
    with pytest.raises(ConfigError, match="not a config file: larger than"):
        load_settings(Path("/dev/zero"), env={})


def test_a_connect_to_origin_with_a_bad_bracket_or_port_is_a_config_error(tmp_path: Path) -> None:
    for target in ("http://[::1:8080", "http://127.0.0.1:99999", "http://127.0.0.1:port"):
        with pytest.raises(ConfigError, match="is not an http"):
            settings_from(tmp_path, f'[network.connect_to]\n"https://www.interfax.ru" = "{target}"\n')


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[network]\ntimeout = inf\n", "network.timeout must be a finite number, got inf"),
        ("[network]\nmax_body_bytes = 0\n", "network.max_body_bytes must be from 1"),
        ('[network]\nuser_agent = "a\\r\\nb"\n', "network.user_agent must be printable ASCII"),
        ("[reclean]\njobs = 10000\n", "reclean.jobs must be from 1 to"),
    ],
)
def test_fetch_with_a_nonsensical_config_says_so_in_one_line(here: Path, text: str, message: str) -> None:
    Path("bad.toml").write_text(text)
    result = CliRunner().invoke(app, ["fetch", "--config", "bad.toml", URL])
    one_line_error(result, "error: bad.toml: ", message)
    assert os.listdir(here) == ["bad.toml"]


def test_jobs_by_the_thousand_are_refused_on_every_path(here: Path) -> None:
    (here / "warc").mkdir()
    bound = f"must be from 1 to {max_jobs()}, got 10000"
    result = CliRunner().invoke(app, ["reclean", "warc", "--out", ".", "--jobs", "10000"])
    one_line_error(result, "error: --jobs ", bound)
    result = CliRunner().invoke(app, ["run", "--out", "out", "--jobs", "10000"])
    one_line_error(result, "error: --jobs ", bound)
    result = CliRunner().invoke(app, ["reclean", "warc", "--out", "."], env={"SCRAPER_JOBS": "10000"})
    one_line_error(result, "error: $SCRAPER_JOBS ", bound)
    assert sorted(os.listdir(here)) == ["warc"] and not os.listdir(here / "warc")


@pytest.mark.parametrize("agent", ["bot\r\nX-Evil: 1", "бот/1.0"])
def test_fetch_refuses_a_user_agent_from_the_command_line_or_environment(here: Path, agent: str) -> None:
    result = CliRunner().invoke(app, ["fetch", "--out", "out", "--user-agent", agent, URL])
    one_line_error(result, "error: --user-agent must be printable ASCII", "character")
    result = CliRunner().invoke(app, ["fetch", "--out", "out", URL], env={"SCRAPER_USER_AGENT": agent})
    one_line_error(result, "error: $SCRAPER_USER_AGENT must be printable ASCII", "character")
    assert not os.listdir(here)


@pytest.mark.parametrize("value", ["0", "-5"])
def test_fetch_refuses_a_body_limit_of_nothing(here: Path, value: str) -> None:
    result = CliRunner().invoke(app, ["fetch", "--out", "out", "--max-body-bytes", value, URL])
    one_line_error(result, "error: --max-body-bytes must be", f"got {value}")


# --- durations ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["9999999999h", "99999999999999m", "9" * 400, "9" * 400 + "s", "876601h"])
def test_a_duration_past_a_century_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="longer than 876600h"):
        parse_duration(value, "--since")


def test_the_longest_duration_still_fits_a_datetime_and_a_wait() -> None:
    assert parse_duration("876600h", "--since") == MAX_DURATION
    assert datetime.now(UTC) - timedelta(seconds=MAX_DURATION) > datetime(1900, 1, 1, tzinfo=UTC)
    assert MAX_DURATION < threading.TIMEOUT_MAX


def test_check_and_run_refuse_a_huge_duration_in_one_line(here: Path) -> None:
    result = CliRunner().invoke(app, ["check", "--out", "out", "--since", "9999999999h"])
    one_line_error(result, "error: --since: '9999999999h'", "")
    result = CliRunner().invoke(app, ["run", "--out", "out", "--time-budget", "9999999999h"])
    one_line_error(result, "error: --time-budget: '9999999999h' is longer than", "")
    assert not os.listdir(here)


# --- URLs -----------------------------------------------------------------------------------------

LONG_LABEL = "a" * 64
LONG_HOST = ".".join(["a" * 60] * 5)  # 304 characters, every label short enough

BAD_URLS = [
    ("https://[::1/world", "Invalid IPv6 URL"),
    ("https://[::1]x/world", "bad host"),
    ("https://[zz]/world", "does not appear to be an IPv4 or IPv6"),
    ("http://www.interfax.ru]/world", "Invalid IPv6 URL"),
    (f"https://{'a' * 300}.ru/world", "a label of 300 characters"),
    (f"https://{LONG_HOST}/world", "characters long (at most 253)"),
    (f"https://www.{LONG_LABEL}.ru/world", "a label of 64 characters"),
    (f"https://x.{'é' * 62}.ru/", "not a valid international domain label"),
    ("https://xn--/", "not a valid international domain label"),
    ("https://www..interfax.ru/", "a label of 0 characters"),
    ("https://inter fax.ru/", "letters, digits and hyphens"),
    ("https://%69nterfax.ru/", "letters, digits and hyphens"),
    ("http://", "not an http(s) URL"),
    ("http:///world/1", "not an http(s) URL"),
    ("http://www.interfax.ru:99999/", "Port out of range"),
    ("http://www.interfax.ru:port/", "Port could not be cast"),
    ("http://www.interfax.ru/\r\nX-Evil: 1", "control character"),
    ("http://www.interfax.ru/\udcff", "undecodable byte"),
    ("https://www.interfax.ru/" + "a" * 10_000, "longer than 8192 characters"),
]


@pytest.mark.parametrize(("url", "reason"), BAD_URLS)
def test_check_http_refuses_what_cannot_be_fetched(url: str, reason: str) -> None:
    with pytest.raises(UsageError, match=re.escape(reason)):
        check_http(url)
    assert reason in str(url_problem(url))


@pytest.mark.parametrize(
    "url",
    [
        URL,
        "HTTP://WWW.INTERFAX.RU/world/1",
        "https://www.interfax.ru./world/1",  # the fully qualified spelling
        "https://президент.рф/news",  # encoded as xn--d1abbgf6aiiy.xn--p1ai
        "https://xn--d1abbgf6aiiy.xn--p1ai/news",
        "http://[::1]:8080/world/1",
        "http://127.0.0.1:8080/world/1",
        "https://user:secret@www.interfax.ru/world/1",
        "https://img_cdn.example.com/a b",  # an underscore in a CDN host, a space in a path
        f"https://{'a' * 63}.ru/",
        "https://" + ".".join(["a" * 63] * 3 + ["b" * 61]) + "/",  # 253 characters: the longest name
    ],
)
def test_check_http_keeps_what_can_be_fetched(url: str) -> None:
    assert check_http(f"  {url}\n") == url
    assert url_problem(url) is None


HOSTILE = [
    *(url for url, _ in BAD_URLS),
    "",
    "[",
    "]",
    "//[",
    "http://[",
    "https://[]/",
    "https://[::1%eth0]/",
    "https://:@/",
    "https://\x00/",
    "http://\udcff\ud800/",
    "https://www.interfax.ru:/world/1",
    "https://www.interfax.ru:-1/world/1",
    "https://www.interfax.ru/?" + "a=1&" * 20_000,
    "https://" + "a" * 1_000_000,
    "https://m.interfax.ru/%%%%/" + "../" * 1000,
    "javascript:alert(1)",
    "https://ria.ru/amp/" + "é" * 64,
]


@pytest.mark.parametrize("url", HOSTILE)
def test_canonical_and_the_hash_take_any_string(url: str) -> None:
    for site in SITES:
        assert isinstance(canonical(url, site), str)
    assert len(url_hash(url)) == 16


@pytest.mark.parametrize(("url", "reason"), BAD_URLS[:17])
def test_fetch_of_a_bad_url_is_one_line_and_writes_nothing(here: Path, url: str, reason: str) -> None:
    result = CliRunner().invoke(app, ["fetch", "--out", "out", URL, url])
    one_line_error(result, "error: ", reason)
    assert not os.listdir(here)


def test_a_url_hash_does_not_change_for_ordinary_urls() -> None:
    # the text file names of existing archives: written before, must stay as they were
    assert url_hash(URL) == url_hash("https://WWW.interfax.ru/world/1#top")
    assert len(url_hash("https://президент.рф/news")) == 16


# --- URL lists ------------------------------------------------------------------------------------


def scraper(*args: str, stdin: int | None = None) -> subprocess.CompletedProcess[str]:
    """The real program in its own process, under a time limit and 1 GiB of address space: a
    regression that reads /dev/zero whole fails here instead of taking the machine."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    argv = [sys.executable, "-m", "scraper", *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPER_")}
    return subprocess.run(
        argv, stdin=stdin, capture_output=True, text=True, timeout=60, preexec_fn=limit, env=env, check=False
    )


def test_urls_from_dev_zero_stop_at_once(here: Path) -> None:
    done = scraper("fetch", "--out", "out", "--from-file", "/dev/zero")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "error: /dev/zero: line 1 is longer than 65536 bytes: not a URL"
    assert not os.listdir(here)


def test_urls_from_a_pipe_that_never_ends_stop_at_the_bound(here: Path) -> None:
    with subprocess.Popen(["yes", URL], stdout=subprocess.PIPE) as endless:
        assert endless.stdout is not None
        try:
            done = scraper("fetch", "--out", "out", "--from-file", "/dev/stdin", stdin=endless.stdout.fileno())
        finally:
            endless.kill()
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"error: more than {pages_cli.MAX_URLS} URLs: split the list into several fetches"
    assert not os.listdir(here)


def test_a_url_file_past_the_byte_bound_is_refused(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages_cli, "MAX_URL_FILE_BYTES", 1000)
    Path("urls.txt").write_text(f"# {'x' * 200}\n" * 10)  # comments only: the bytes count, not the URLs
    result = CliRunner().invoke(app, ["fetch", "--out", "out", "--from-file", "urls.txt"])
    one_line_error(result, "error: urls.txt: more than 1000 bytes: not a list of URLs", "")


def test_urls_from_the_file_and_the_arguments_count_together(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages_cli, "MAX_URLS", 3)
    Path("urls.txt").write_text(f"{URL}\n{URL}2\n")
    assert pages_cli._read_urls([URL + "3"], Path("urls.txt")) == [URL + "3", URL, URL + "2"]
    with pytest.raises(UsageError, match="more than 3 URLs"):
        pages_cli._read_urls([URL + "3", URL + "4"], Path("urls.txt"))


def test_a_url_file_is_read_with_its_bom_comments_and_blank_lines(here: Path) -> None:
    Path("urls.txt").write_bytes(f"\ufeff{URL}\r\n\n  # a comment\n {URL}2 \n{URL}3".encode())
    assert pages_cli._read_urls([], Path("urls.txt")) == [URL, URL + "2", URL + "3"]


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: p.write_bytes(b"https://www.interfax.ru/\xff\n"), "urls.txt: line 1 is not UTF-8 text"),
        (lambda p: p.mkdir(), "urls.txt: cannot read: Is a directory"),
        (lambda p: None, "urls.txt: cannot read: No such file or directory"),
    ],
)
def test_an_unreadable_url_file_is_one_line(here: Path, make, says: str) -> None:  # type: ignore[no-untyped-def]
    make(Path("urls.txt"))
    result = CliRunner().invoke(app, ["fetch", "--out", "out", "--from-file", "urls.txt"])
    one_line_error(result, "error: " + says, "")
    assert "out" not in os.listdir(here)


def test_fetch_without_urls_is_one_line(here: Path) -> None:
    Path("urls.txt").write_text("# nothing yet\n")
    result = CliRunner().invoke(app, ["fetch", "--out", "out", "--from-file", "urls.txt"])
    one_line_error(result, "error: give at least one URL", "")
