"""A real HTTP server on 127.0.0.1 for end-to-end tests: routes map a path to a response or to
a misbehaviour (reset mid-body, stall)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    reset_after: int | None = None  # send this many body bytes, then reset the connection
    stall: float = 0.0  # seconds to wait after the headers
    close_after: int | None = None  # send this many body bytes, then close the connection cleanly
    etag: str | None = None  # sent as ETag; a request with a matching If-None-Match gets a 304


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, Route]] = {}
    seen: ClassVar[list[tuple[str, dict[str, str]]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, dict(self.headers)))
        # a route is found by host and path ("www.example.ru/rss") or by path alone
        route = self.routes.get(f"{self.headers.get('Host', '')}{self.path}") or self.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        if route.etag is not None and self.headers.get("If-None-Match") == route.etag:
            self.send_response(304)
            self.send_header("ETag", route.etag)
            self.end_headers()
            return
        self.send_response(route.status)
        for key, value in route.headers.items():
            self.send_header(key, value)
        if route.etag is not None:
            self.send_header("ETag", route.etag)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        if route.stall:
            time.sleep(route.stall)
        if route.reset_after is not None:
            self.wfile.write(route.body[: route.reset_after])
            self.wfile.flush()
            time.sleep(0.3)  # let the client read what came before the reset discards it
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.close()
            return
        if route.close_after is not None:
            self.wfile.write(route.body[: route.close_after])
            self.close_connection = True
            return
        self.wfile.write(route.body)

    def log_message(self, *args: object) -> None:
        return


@dataclass
class Server:
    origin: str
    routes: dict[str, Route]
    seen: list[tuple[str, dict[str, str]]]


@contextmanager
def serve(routes: dict[str, Route], keep_alive: bool = False) -> Iterator[Server]:
    """Serve ``routes``; with ``keep_alive``, HTTP/1.1 connections that stay open between requests,
    as the real sites' do (otherwise HTTP/1.0: one connection per request)."""
    attrs: dict[str, object] = {
        "routes": routes,
        "seen": [],
        "protocol_version": "HTTP/1.1" if keep_alive else "HTTP/1.0",
    }
    # headers and body go out in two writes: without TCP_NODELAY the body of a response on a kept-open
    # connection waits for the client's delayed ACK of the headers (40 ms)
    attrs["disable_nagle_algorithm"] = keep_alive
    handler = type("Handler", (_Handler,), attrs)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", routes, handler.seen)
    finally:
        httpd.shutdown()
        httpd.server_close()
