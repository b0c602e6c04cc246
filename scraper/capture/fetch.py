"""Fetching: the only module that imports httpx and tenacity (its sockets: ``sockets``).

Redirects are followed by hand so that every hop is recorded; every response received (retried
5xx, redirects, a body cut off mid-way) comes back as an ``Exchange`` to be archived, because
the WARC is evidence of everything the site sent.

Where requests may go: http(s) only, and by default never to a loopback, private, link-local or
otherwise non-public address, so a hostile feed or redirect cannot steer the scraper into the local
network. The host is resolved here, every address it has is checked, and the connection is made
to an address that was checked (a second lookup could answer otherwise: DNS rebinding). An origin
mapped by ``connect_to`` is the deliberate exception: it goes where the mapping says.

How long a request may take: ``total_timeout`` from the moment it is sent, whatever the server
trickles, and a stop request ends it within a second (``sockets``, below httpx).
"""

from __future__ import annotations

import functools
import math
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from scraper.capture.encoding import decode_body
from scraper.capture.sockets import Overdue, PublicOnly, Refused, Sliced, Stopped, Watch, describe, install, resolve
from scraper.config import Settings
from scraper.models import Capture, Exchange
from scraper.urls import url_problem

_REDIRECTS = (301, 302, 303, 307, 308)

# How the fetcher waits between attempts, like ``threading.Event.wait``: True when the wait was cut
# short (a stop request) or refused (it would end past a time budget); then the URL fails at once.
Sleep = Callable[[float], bool | None]


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    exchanges: tuple[Exchange, ...]  # everything received, in order
    final: Capture | None  # the last response, body decoded
    error: str | None = None  # why the fetch failed, if it did


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, exchange: Exchange | None = None):
        super().__init__(reason)
        self.reason, self.retry_after, self.exchange = reason, retry_after, exchange


class _ConnectTo(httpx.BaseTransport):
    """Sends requests for an origin to another address; the request keeps its URL and Host.
    Mapped requests go out ``direct``; all others through ``guarded`` (the address check)."""

    def __init__(self, guarded: httpx.HTTPTransport, direct: httpx.HTTPTransport, mapping: dict[str, httpx.URL]):
        self._guarded, self._direct, self._mapping = guarded, direct, mapping

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        default = 443 if url.scheme == "https" else 80
        port = "" if (url.port or default) == default else f":{url.port}"
        target = self._mapping.get(f"{url.scheme}://{url.host}{port}")
        if target is None:
            return self._guarded.handle_request(request)
        request.url = url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
        return self._direct.handle_request(request)

    def close(self) -> None:
        self._guarded.close()
        self._direct.close()


def _utf8(header: str | None) -> str | None:
    """A header's bytes (kept as Latin-1) read as UTF-8 where they are: a Location with a raw
    Cyrillic path means those letters, as a browser takes them, not their bytes as Latin-1."""
    try:
        return None if header is None else header.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return header


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS context of every connection in the process: loading the CA certificates costs 20-30 ms
    of CPU, and each fetcher has two transports (five of them at the start of a run)."""
    return httpx.create_ssl_context()


def _transport(backend: Sliced) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(verify=_tls())
    # httpx offers no public way to choose its network backend: ``install`` refuses to run with the
    # default one (unguarded, unbounded) if that moves
    install(getattr(transport, "_pool", None), backend)
    return transport


class Fetcher:
    """``stop``, once set, ends the request under way within a second and sends no other;
    ``sleep`` is how the fetcher waits between attempts (see ``Sleep``), by default on ``stop``."""

    def __init__(
        self, settings: Settings, sleep: Sleep | None = None, resolver: Callable[[str, int], list[str]] = resolve,
        stop: threading.Event | None = None, left: Callable[[], float | None] | None = None,
    ) -> None:  # fmt: skip
        self._s = settings
        self._left = left  # seconds left of a run's time budget (None: no budget); a request ends with it
        self._stop = stop or threading.Event()
        self._sleep = sleep or self._stop.wait
        self._watch = Watch(self._stop.is_set)
        sockets = Sliced(self._watch)
        mapping = {origin: httpx.URL(target) for origin, target in settings.connect_to}
        guarded = _transport(sockets if settings.allow_private_addresses else PublicOnly(self._watch, resolver))
        self._client = httpx.Client(
            transport=_ConnectTo(guarded, _transport(sockets), mapping),
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,
            headers={
                "User-Agent": settings.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                "Accept-Encoding": "gzip, deflate",
                "Accept-Language": "ru,uk;q=0.9,en;q=0.8",
            },
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> Fetched:
        """GET ``url`` (with extra request ``headers``, e.g. conditional ones), following redirects."""
        exchanges: list[Exchange] = []
        if not url.lower().startswith(("http://", "https://")):
            return Fetched(url, (), None, f"not an http(s) URL: {url[:200]}")
        # HTTPS://: every reader of the WARC takes an HTTP record by its URI's scheme in lower case
        url = url[: url.index(":")].lower() + url[url.index(":") :]
        if problem := url_problem(url):
            return Fetched(url, (), None, problem)
        # an IRI is archived as the URI sent (WARC headers are ASCII); a host in capitals, as sent
        if not url.isascii() or " " in url or url.split("/")[2] != url.split("/")[2].lower():
            try:
                url = str(httpx.URL(url))
            except (httpx.InvalidURL, ValueError) as exc:
                return Fetched(url, (), None, f"not an http(s) URL: {exc}")
        seen, current = {url}, url
        for _ in range(self._s.max_redirects + 1):
            try:
                exchange = self._with_retries(current, exchanges, headers or {})
            except (_Retryable, Refused) as exc:
                return Fetched(url, tuple(exchanges), None, str(exc))
            location = _utf8(dict((k.lower(), v) for k, v in exchange.response_headers).get("location"))
            if exchange.status not in _REDIRECTS or not location:
                return _finish(url, exchanges, exchange, self._s.max_body_bytes, self._gave_up(exchange, exchanges))
            try:
                current = str(httpx.URL(current).join(location))
            except (httpx.InvalidURL, ValueError) as exc:
                return Fetched(url, tuple(exchanges), None, f"bad redirect Location {location[:200]!r}: {exc}")
            if not current.startswith(("http://", "https://")):
                return Fetched(url, tuple(exchanges), None, f"redirect to a non-http URL: {current}")
            if problem := url_problem(current):  # a host no resolver takes is this URL's failure
                return Fetched(url, tuple(exchanges), None, f"redirect to a bad URL: {problem}")
            if current in seen:
                return Fetched(url, tuple(exchanges), None, f"redirect loop at {current}")
            seen.add(current)
        return Fetched(url, tuple(exchanges), None, f"more than {self._s.max_redirects} redirects")

    def _with_retries(self, url: str, log: list[Exchange], headers: dict[str, str]) -> Exchange:
        failed: list[_Retryable] = []

        def pause(seconds: float) -> None:
            if self._sleep(seconds):
                why = f"the retry in {seconds:g} s not waited for: a stop request, or past the time budget"
                raise Refused(f"{failed[-1].reason}; {why}")

        retrying = Retrying(
            stop=stop_after_attempt(1 + self._s.retries),
            wait=self._wait,
            retry=retry_if_exception(self._may_retry),
            sleep=pause,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    try:
                        return self._attempt(url, log, headers)
                    except _Retryable as exc:
                        failed.append(exc)
                        raise
        except _Retryable as exc:
            if exc.exchange is not None:  # a 429/5xx that stayed one: the response is the result
                return exc.exchange
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _gave_up(self, last: Exchange, log: list[Exchange]) -> str | None:
        """Why a final 429 or 5xx stands: retries spent, or a Retry-After past the ceiling."""
        if last.status != 429 and last.status < 500:
            return None
        value = next((v for k, v in last.response_headers if k.lower() == "retry-after"), None)
        after = retry_after(value, datetime.now(UTC))
        if after is not None and after > self._s.retry_after_max:
            return (
                f"HTTP {last.status}: Retry-After {after:.0f} s is past the {self._s.retry_after_max:.0f} s"
                " ceiling (network.retry_after_max), not waited for"
            )
        tries = sum(1 for e in log if e.url == last.url)
        return f"HTTP {last.status} after {tries} attempt{'s' * (tries != 1)}"

    def _may_retry(self, exc: BaseException) -> bool:
        if not isinstance(exc, _Retryable):
            return False
        return exc.retry_after is None or exc.retry_after <= self._s.retry_after_max

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return float(min(self._s.backoff * 2 ** (state.attempt_number - 1), self._s.backoff_max))

    def _attempt(self, url: str, log: list[Exchange], headers: dict[str, str]) -> Exchange:
        try:
            request = self._client.build_request("GET", url, headers=headers)
        except (httpx.InvalidURL, ValueError) as exc:  # UnicodeError too: a host IDNA refuses
            raise Refused(f"bad URL: {describe(exc)}") from exc
        started = datetime.now(UTC)
        left = self._left() if self._left is not None else None
        if left is not None and left <= 0:
            raise Refused("not sent: the run's time budget is spent")
        self._watch.deadline = time.monotonic() + min(self._s.total_timeout, math.inf if left is None else left)
        try:
            response = self._send(request)
            body = bytearray()
            try:
                truncated, error = self._read(response, body), None
            except (httpx.TransportError, Stopped) as exc:
                truncated, error = ("disconnect" if isinstance(exc, httpx.TransportError) else "unspecified"), exc
            finally:
                response.close()
        finally:
            self._watch.deadline = math.inf
        exchange = _exchange(url, started, request, response, bytes(body), truncated)
        log.append(exchange)  # what came before a stop or a lost connection is evidence too
        if isinstance(error, Stopped):
            raise Refused(f"stopped after {len(body)} bytes of the body: archived cut off") from error
        if error is not None:
            raise _Retryable(f"connection lost after {len(body)} bytes: {describe(error)}") from error
        if response.status_code == 429 or response.status_code >= 500:
            after = retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
            raise _Retryable(f"HTTP {response.status_code}", after, exchange)
        return exchange

    def _send(self, request: httpx.Request) -> httpx.Response:
        """The response's head: status line and headers, 1xx responses skipped."""
        try:
            return self._client.send(request, stream=True)
        except Overdue as exc:  # slow all the way to the head: nothing to keep
            if self._left is not None and (left := self._left()) is not None and left <= 0:  # None: no budget
                raise Refused("no response before the run's time budget ran out") from exc
            raise _Retryable(f"timeout: no response within total_timeout {self._s.total_timeout:g} s") from exc
        except Stopped as exc:
            raise Refused("stopped before the response came") from exc
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timeout: {describe(exc)}") from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed: {describe(exc)}") from exc

    def _read(self, response: httpx.Response, body: bytearray) -> str | None:
        """The body into ``body``; why it was cut off, if it was."""
        try:
            for chunk in response.iter_raw():  # no chunk_size: a buffered tail would be lost on error
                body += chunk
                if len(body) > self._s.max_body_bytes:
                    del body[self._s.max_body_bytes :]
                    return "length"
        except Overdue:
            return "time"
        return None


def _exchange(
    url: str, started: datetime, request: httpx.Request, response: httpx.Response, body: bytes, cut: str | None
) -> Exchange:
    def pairs(raw: list[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
        return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)

    return Exchange(
        url=url,
        started_at=started,
        method=request.method,
        request_headers=pairs(request.headers.raw),
        http_version=response.http_version or "HTTP/1.1",
        status=response.status_code,
        reason=response.reason_phrase,
        response_headers=pairs(response.headers.raw),
        raw_body=body,
        truncated=cut,
        peer_ip=_peer(response),
    )


def _peer(response: httpx.Response) -> str | None:
    stream = response.extensions.get("network_stream")
    try:
        address = stream.get_extra_info("server_addr") if stream is not None else None
    except Exception:
        return None
    return str(address[0]) if address else None


def _finish(url: str, exchanges: list[Exchange], last: Exchange, cap: int, error: str | None) -> Fetched:
    decoded = decode_body(last.raw_body, last.response_headers, cap)
    capture = Capture(last.url, last.started_at, last.status, last.response_headers, decoded.body)
    if last.truncated == "length":
        error = f"body larger than {cap} bytes: archived truncated, not extracted"
    elif last.truncated == "time":
        error = "body took too long: archived truncated, not extracted"
    elif decoded.problem:  # a bomb, a coding not decoded, a body that does not decompress: archived as sent
        error = decoded.problem
    return Fetched(url, tuple(exchanges), capture, error)


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
