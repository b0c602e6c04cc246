"""robots.txt per RFC 9309: rules, Crawl-delay, and what a missing or failing robots.txt means."""

from __future__ import annotations

import pytest

from scraper.schedule.robots import MAX_ROBOTS_BYTES, Robots, robots_url

UA = "scraper/0.1 (+https://github.com/example/scraper)"

# the shape of a news site's robots.txt: search and print pages closed, a stricter group for us
RULES = b"""User-agent: *
Disallow: /search/
Disallow: /*/print$
Allow: /
Crawl-delay: 1

User-agent: Yandex
Disallow: /tmp/
Crawl-delay: 0.5

User-agent: scraper
Disallow: /search/
Disallow: /photo/
Crawl-delay: 5

Sitemap: https://www.interfax.ru/sitemap.xml
"""


class FakeSite:
    """fetch_robots stand-in: answers per robots.txt URL and counts the calls."""

    def __init__(self, answers: dict[str, tuple[int, bytes] | None]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, url: str) -> tuple[int, bytes] | None:
        self.calls.append(url)
        return self.answers.get(url, (404, b""))


def test_rules_for_our_group() -> None:
    robots = Robots(FakeSite({"https://www.interfax.ru/robots.txt": (200, RULES)}))
    assert robots.allowed("https://www.interfax.ru/world/813468", UA)
    assert not robots.allowed("https://www.interfax.ru/photo/7890", UA)
    assert not robots.allowed("https://www.interfax.ru/search/?q=x", UA)
    assert robots.delay("https://www.interfax.ru/world/813468", UA) == 5.0


def test_rules_for_another_agent_fall_back_to_the_star_group() -> None:
    robots = Robots(FakeSite({"https://kremlin.ru/robots.txt": (200, RULES)}))
    assert robots.allowed("https://kremlin.ru/events/president/news/67500", "otherbot/1.0")
    assert not robots.allowed("https://kremlin.ru/events/president/news/67500/print", "otherbot/1.0")
    assert robots.delay("https://kremlin.ru/", "otherbot/1.0") == 1.0


def test_no_crawl_delay() -> None:
    robots = Robots(FakeSite({"https://zn.ua/robots.txt": (200, b"User-agent: *\nDisallow: /search/\n")}))
    assert robots.delay("https://zn.ua/POLITICS/x.html", UA) is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451])
def test_4xx_means_no_rules(status: int) -> None:
    robots = Robots(FakeSite({"https://ria.ru/robots.txt": (status, b"User-agent: *\nDisallow: /\n")}))
    assert robots.allowed("https://ria.ru/20211208/peregovory-1762893471.html", UA)
    assert robots.delay("https://ria.ru/", UA) is None


@pytest.mark.parametrize("answer", [(500, b""), (502, b""), (503, b"Allow: /"), (429, b""), None])
def test_5xx_429_and_unreachable_mean_everything_disallowed(answer: tuple[int, bytes] | None) -> None:
    robots = Robots(FakeSite({"https://www.rbc.ru/robots.txt": answer}))
    assert not robots.allowed("https://www.rbc.ru/politics/08/12/2021/61afd6ef9a79475ba2b59caa", UA)
    assert robots.delay("https://www.rbc.ru/", UA) is None


def test_fetched_once_per_origin() -> None:
    site = FakeSite({"https://www.interfax.ru/robots.txt": (200, RULES), "https://ria.ru/robots.txt": (503, b"")})
    robots = Robots(site)
    for _ in range(3):
        robots.allowed("https://www.interfax.ru/world/813468", UA)
        robots.delay("https://www.interfax.ru/world/813469", UA)
        robots.allowed("https://ria.ru/20211208/a-1762893471.html", UA)  # a failure is kept too
    robots.allowed("https://WWW.INTERFAX.RU:443/russia/1", UA)  # the same origin spelt otherwise
    assert site.calls == ["https://www.interfax.ru/robots.txt", "https://ria.ru/robots.txt"]


def test_scheme_host_and_port_are_separate_origins() -> None:
    site = FakeSite({"https://kremlin.ru/robots.txt": (200, b"User-agent: *\nDisallow: /\n")})
    robots = Robots(site)
    assert not robots.allowed("https://kremlin.ru/events/president/news/67500", UA)
    assert robots.allowed("http://kremlin.ru/events/president/news/67500", UA)  # its own robots.txt: 404
    assert robots.allowed("https://en.kremlin.ru/events/president/news/67500", UA)
    assert robots.allowed("https://kremlin.ru:8443/events/president/news/67500", UA)
    assert site.calls == [
        "https://kremlin.ru/robots.txt",
        "http://kremlin.ru/robots.txt",
        "https://en.kremlin.ru/robots.txt",
        "https://kremlin.ru:8443/robots.txt",
    ]


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://ria.ru/x", "javascript:alert(1)", "mailto:a@ria.ru", "/relative", "http://:80/"],
)
def test_urls_that_are_not_http_are_never_allowed(url: str) -> None:
    site = FakeSite({})
    assert not Robots(site).allowed(url, UA)
    assert site.calls == []


def test_robots_txt_itself_is_always_allowed() -> None:
    site = FakeSite({"https://ria.ru/robots.txt": (200, b"User-agent: *\nDisallow: /\n")})
    assert Robots(site).allowed("https://ria.ru/robots.txt", UA)


def test_rules_past_the_size_limit_are_ignored() -> None:
    body = b"User-agent: *\nDisallow: /closed/\n" + b"# padding\n" * (MAX_ROBOTS_BYTES // 10) + b"Disallow: /late/\n"
    robots = Robots(FakeSite({"https://zn.ua/robots.txt": (200, body)}))
    assert not robots.allowed("https://zn.ua/closed/x.html", UA)
    assert robots.allowed("https://zn.ua/late/x.html", UA)


@pytest.mark.parametrize("body", [b"\xff\xfe\x00garbage\x00", b"<html><body>Welcome</body></html>", b""])
def test_garbage_robots_txt_means_no_rules(body: bytes) -> None:
    robots = Robots(FakeSite({"https://ria.ru/robots.txt": (200, body)}))
    assert robots.allowed("https://ria.ru/20211208/a-1762893471.html", UA)


def test_robots_url() -> None:
    assert robots_url("https://WWW.Interfax.ru/world/813468?utm_source=x#y") == "https://www.interfax.ru/robots.txt"
    assert robots_url("http://kremlin.ru:80/events/") == "http://kremlin.ru/robots.txt"
    assert robots_url("http://[::1]:8080/x") == "http://[::1]:8080/robots.txt"
    assert robots_url("mailto:a@ria.ru") is None
