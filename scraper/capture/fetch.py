"""Fetching: the only module that imports httpx and tenacity.

Redirects are followed by hand so that every hop is recorded; every response received (retried
5xx, redirects, a body cut off mid-way) comes back as an ``Exchange`` to be archived, because
the WARC is evidence of everything the site sent.

Where requests may go: http(s) only, and by default never to a loopback, private, link-local or
otherwise non-public address, so a hostile feed or redirect cannot steer the scraper into the local
network. The host is resolved here, every address it has is checked, and the connection is made
to an address that was checked (a second lookup could answer otherwise: DNS rebinding). An origin
mapped by ``connect_to`` is the deliberate exception: it goes where the mapping says.
Also imports httpcore (httpx's own connection layer), for that check.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpcore
import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from scraper.capture.encoding import decode_content
from scraper.config import Settings
from scraper.models import Capture, Exchange
from scraper.urls import url_problem

_REDIRECTS = (301, 302, 303, 307, 308)


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


class _Refused(Exception):
    """A request that is not sent, or a failure no retry can mend: a blocked address, a bad URL."""


class _ConnectTo(httpx.BaseTransport):
    """Sends requests for an origin to another address; the request keeps its URL and Host.
    Mapped requests go out directly; all others through ``guarded`` (the address check)."""

    def __init__(self, guarded: httpx.HTTPTransport, mapping: dict[str, httpx.URL]) -> None:
        self._guarded, self._direct, self._mapping = guarded, httpx.HTTPTransport(), mapping

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


class _PublicOnly(httpcore.NetworkBackend):
    """Connects only when every address the host resolves to is a public one, and then to one of
    those very addresses. What it refuses is never sent, so never retried."""

    def __init__(self, resolve: Callable[[str, int], list[str]]) -> None:
        self._resolve, self._inner = resolve, httpcore.SyncBackend()

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:  # fmt: skip
        try:
            addresses = list(dict.fromkeys(self._resolve(host, port)))
        except OSError as exc:  # what httpcore itself says for a name that does not resolve
            raise httpcore.ConnectError(str(exc)) from exc
        for address in addresses:
            kind = non_public(address)
            if kind:
                said = f"{host} is" if address == host else f"{host} resolves to {address},"
                raise _Refused(f"blocked: {said} not a public address ({kind})")
        error: Exception = httpcore.ConnectError(f"{host}: no address")
        for address in addresses:
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # the next address, as a browser would
                error = exc
        raise error

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise _Refused("blocked: a Unix socket")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def resolve(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def non_public(address: str) -> str | None:
    """What kind of non-public address this is (loopback, private...), or None for a public one."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return "malformed"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:  # ::ffff:10.0.0.1 is 10.0.0.1
        ip = ip.ipv4_mapped
    kinds = (("loopback", ip.is_loopback), ("link-local", ip.is_link_local), ("unspecified", ip.is_unspecified),
             ("multicast", ip.is_multicast), ("private", ip.is_private), ("reserved", ip.is_reserved))  # fmt: skip
    kind = next((name for name, hit in kinds if hit), None)
    return kind or (None if ip.is_global else "non-public")


def _guarded_transport(allow_private: bool, resolver: Callable[[str, int], list[str]]) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport()
    if allow_private:
        return transport
    pool = getattr(transport, "_pool", None)
    # httpx offers no public way to choose its network backend: refuse to run unguarded if that moves
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("this httpx version hides its connection pool: the address check cannot be set")
    pool._network_backend = _PublicOnly(resolver)
    return transport


class Fetcher:
    def __init__(
        self, settings: Settings, sleep: Callable[[float], None] = time.sleep,
        resolver: Callable[[str, int], list[str]] = resolve,
    ) -> None:  # fmt: skip
        self._s = settings
        self._sleep = sleep
        mapping = {origin: httpx.URL(target) for origin, target in settings.connect_to}
        guarded = _guarded_transport(settings.allow_private_addresses, resolver)
        self._client = httpx.Client(
            transport=_ConnectTo(guarded, mapping),
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
        seen = {url}
        current = url
        if not url.lower().startswith(("http://", "https://")):
            return Fetched(url, (), None, f"not an http(s) URL: {url[:200]}")
        if problem := url_problem(url):
            return Fetched(url, (), None, problem)
        for _ in range(self._s.max_redirects + 1):
            try:
                exchange = self._with_retries(current, exchanges, headers or {})
            except (_Retryable, _Refused) as exc:
                return Fetched(url, tuple(exchanges), None, str(exc))
            location = dict((k.lower(), v) for k, v in exchange.response_headers).get("location")
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
        retrying = Retrying(
            stop=stop_after_attempt(1 + self._s.retries),
            wait=self._wait,
            retry=retry_if_exception(self._may_retry),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(url, log, headers)
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
            raise _Refused(f"bad URL: {_describe(exc)}") from exc
        started = datetime.now(UTC)
        try:
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timeout: {_describe(exc)}") from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed: {_describe(exc)}") from exc
        body = bytearray()
        try:
            truncated = self._read(response, body)
            error = None
        except httpx.TransportError as exc:
            truncated, error = "disconnect", exc
        finally:
            response.close()
        exchange = _exchange(url, started, request, response, bytes(body), truncated)
        log.append(exchange)
        if error is not None:
            raise _Retryable(f"connection lost after {len(body)} bytes: {_describe(error)}") from error
        if response.status_code == 429 or response.status_code >= 500:
            after = retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
            raise _Retryable(f"HTTP {response.status_code}", after, exchange)
        return exchange

    def _read(self, response: httpx.Response, body: bytearray) -> str | None:
        deadline = time.monotonic() + self._s.total_timeout
        for chunk in response.iter_raw():  # no chunk_size: a buffered tail would be lost on error
            body += chunk
            if len(body) > self._s.max_body_bytes:
                del body[self._s.max_body_bytes :]
                return "length"
            if time.monotonic() > deadline:
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
    headers = {k.lower(): v for k, v in last.response_headers}
    body, overflow = decode_content(last.raw_body, headers.get("content-encoding", ""), cap)
    capture = Capture(last.url, last.started_at, last.status, last.response_headers, body)
    if last.truncated == "length":
        error = f"body larger than {cap} bytes: archived truncated, not extracted"
    elif overflow:  # a gzip bomb: the few bytes sent are all archived, the inflated page is not read
        error = f"body larger than {cap} bytes once decompressed: archived as sent, not extracted"
    elif last.truncated == "time":
        error = "body took too long: archived truncated, not extracted"
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


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
