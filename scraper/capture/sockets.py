"""The fetcher's sockets, below httpx: the only module that imports httpcore (httpx's connection
layer), whose network backend they are.

How long a request may take: ``total_timeout`` from the moment it is sent, whatever the server
trickles (connect, TLS, status line, headers, 1xx responses, body), and a stop request ends it
within a second. httpx has neither, so both are enforced where bytes are read: every blocking call
of these sockets runs in slices of at most ``_SLICE`` seconds, between which the request's deadline
(``Watch``, per thread) and the stop request are looked at.

Where they connect: ``PublicOnly`` resolves the host, refuses it unless every address it has is a
public one, and connects to an address it checked (a second lookup could answer otherwise: DNS
rebinding).
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import math
import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpcore

_SLICE = 0.5  # seconds a blocking socket call runs before the deadline and a stop request are looked at
_T = TypeVar("_T")


class Refused(Exception):
    """A request that is not sent, or a failure no retry can mend: a blocked address, a bad URL,
    a stop request."""


class Overdue(Exception):
    """The request's ``total_timeout`` passed. Not an httpcore error, so that httpx lets it through
    as it is, and the fetcher tells it from a plain timeout."""


class Stopped(Exception):
    """A stop was asked for while a request was under way."""


class Watch(threading.local):
    """The deadline of the request under way, per thread: httpx's sync calls do their socket work
    in the thread that sent the request, and a fetcher may serve several threads."""

    deadline = math.inf  # time.monotonic() value; none between requests

    def __init__(self, stopping: Callable[[], bool]) -> None:
        self.stopping = stopping

    def slice(self, until: float, slow: type[Exception]) -> float:
        """Seconds the next blocking call may take. Raises once a stop is asked, the deadline has
        passed, or ``until`` (the call's own timeout) has, the last as ``slow``."""
        if self.stopping():
            raise Stopped
        now = time.monotonic()
        if now >= self.deadline:
            raise Overdue
        if now >= until:
            raise slow("timed out")
        return max(0.001, min(_SLICE, self.deadline - now, until - now))  # 0 would make the socket non-blocking


class _Stream(httpcore.NetworkStream):
    """A TCP (or TLS) socket whose every blocking call runs in ``Watch`` slices."""

    def __init__(self, sock: socket.socket, watch: Watch) -> None:
        self._sock, self._watch = sock, watch

    def connect(self, address: Any, timeout: float | None, local: str | None, options: Any) -> None:
        sock = self._sock
        try:
            if local is not None:
                sock.bind((local, 0))
            for option in options or ():
                sock.setsockopt(*option)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)  # a blocking connect cannot be sliced: poll for its end instead
            code = sock.connect_ex(address)
        except OSError as exc:
            raise httpcore.ConnectError(describe(exc)) from exc
        until = _until(timeout)
        poll = select.poll()
        poll.register(sock, select.POLLOUT)
        while code == errno.EINPROGRESS:
            if poll.poll(self._watch.slice(until, httpcore.ConnectTimeout) * 1000):
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            raise httpcore.ConnectError(os.strerror(code))

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        recv = functools.partial(self._sock.recv, max_bytes)
        return self._sliced(recv, timeout, httpcore.ReadTimeout, httpcore.ReadError)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        view = memoryview(buffer)
        while view:
            send = functools.partial(self._sock.send, view)
            view = view[self._sliced(send, timeout, httpcore.WriteTimeout, httpcore.WriteError) :]

    def close(self) -> None:
        self._sock.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        try:
            wrapped = ssl_context.wrap_socket(
                self._sock, server_hostname=server_hostname, do_handshake_on_connect=False
            )
        except OSError as exc:
            self.close()
            raise httpcore.ConnectError(describe(exc)) from exc
        tls = _Stream(wrapped, self._watch)
        try:  # a handshake trickled byte by byte is bounded like any read
            tls._sliced(wrapped.do_handshake, timeout, httpcore.ConnectTimeout, httpcore.ConnectError)
        except BaseException:
            tls.close()
            raise
        return tls

    def get_extra_info(self, info: str) -> Any:
        sock = self._sock
        if info == "ssl_object":  # what httpcore asks it: the ALPN protocol chosen
            return sock if isinstance(sock, ssl.SSLSocket) else None
        if info in ("client_addr", "server_addr"):
            return sock.getsockname() if info == "client_addr" else sock.getpeername()
        if info == "socket":
            return sock
        if info == "is_readable":  # an idle kept-alive connection the server closed or wrote to
            if sock.fileno() < 0:
                return True
            poll = select.poll()
            poll.register(sock, select.POLLIN)
            return bool(poll.poll(0))
        return None

    def _sliced(
        self, call: Callable[[], _T], timeout: float | None, slow: type[Exception], failed: type[Exception]
    ) -> _T:
        """``call``, a blocking socket call, made again after each slice that ends with nothing
        done, until the stop request, the deadline or ``timeout`` ends it."""
        until = _until(timeout)
        while True:
            self._sock.settimeout(self._watch.slice(until, slow))
            try:
                return call()
            except TimeoutError:  # a slice, not the wait, is over
                continue
            except OSError as exc:
                raise failed(describe(exc)) from exc


def _until(timeout: float | None) -> float:
    return math.inf if timeout is None else time.monotonic() + timeout


class Sliced(httpcore.NetworkBackend):
    """httpcore's sync backend, connecting ``_Stream`` sockets."""

    def __init__(self, watch: Watch) -> None:
        self._watch = watch

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:  # fmt: skip
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise _unresolved(host, exc) from exc
        error: Exception = httpcore.ConnectError(f"{host}: no address")
        for family, kind, proto, _, address in found:
            try:
                stream = _Stream(socket.socket(family, kind, proto), self._watch)
            except OSError as exc:  # out of descriptors, say
                raise httpcore.ConnectError(describe(exc)) from exc
            try:
                stream.connect(address, timeout, local_address, socket_options)
                return stream
            except httpcore.ConnectError as exc:  # the next address, as a browser would
                stream.close()
                error = exc
            except BaseException:
                stream.close()
                raise
        raise error

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise Refused("blocked: a Unix socket")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class PublicOnly(Sliced):
    """Connects only when every address the host resolves to is a public one, and then to one of
    those very addresses. What it refuses is never sent, so never retried."""

    def __init__(self, watch: Watch, resolve: Callable[[str, int], list[str]]) -> None:
        super().__init__(watch)
        self._resolve = resolve

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:  # fmt: skip
        try:
            addresses = list(dict.fromkeys(self._resolve(host, port)))
        except OSError as exc:
            raise _unresolved(host, exc) from exc
        for address in addresses:
            kind = non_public(address)
            if kind:
                said = f"{host} is" if address == host else f"{host} resolves to {address},"
                raise Refused(f"blocked: {said} not a public address ({kind})")
        error: Exception = httpcore.ConnectError(f"{host}: no address")
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # the next address, as a browser would
                error = exc
        raise error


# what the resolver says of a name that does not exist: no retry will make it resolve
_NO_SUCH_NAME = {getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)}


def _unresolved(host: str, exc: OSError) -> Exception:
    """A name that does not exist fails the URL at once; a resolver that failed (EAI_AGAIN: no
    answer now) is a connection error, retried as any other."""
    if isinstance(exc, socket.gaierror) and exc.errno in _NO_SUCH_NAME:
        return Refused(f"no such host: {host} ({describe(exc)})")
    return httpcore.ConnectError(describe(exc))


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


def install(pool: object, backend: Sliced) -> None:
    """``backend`` made the network backend of an httpx transport's connection ``pool``."""
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("this httpx version hides its connection pool: its sockets cannot be set")
    pool._network_backend = backend


def describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
