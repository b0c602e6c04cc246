"""Replay of the archive in pywb: the only module that imports pywb (and gevent, its server).

``prepared(root)`` brings the CDXJ index of every WARC under ``<root>/warc`` up to date and
writes pywb's ``config.yaml`` into a temporary folder: one collection, ``archive``, whose WARCs are
read where they are (nothing copied) and whose indexes are linked into that folder. Replay only
reads the archive: an index that cannot be written beside its WARC (a read-only archive, a
mounted backup) is written into the temporary folder too. ``listen(port)`` takes the port on
127.0.0.1 (a port in use is the user's one-line error here, before pywb starts), and ``serve`` then
replaces the current process with pywb serving on that socket:
``python -m scraper.archive.replay FOLDER FD FAREWELL``. Ctrl-C or SIGTERM stops it with the
farewell line and exit code 130, at any moment from the exec on; the temporary folder is removed
by whichever process ends last with it.

pywb replays a ``server-not-modified`` revisit (the archived 304 of an unchanged feed) as a 304
with no body (reported as ukwa/ukwa-pywb#40), so a browser shows nothing for that capture. The
server started here resolves such a revisit to the record it names in ``WARC-Refers-To``, found
through ``WARC-Refers-To-Target-URI`` and ``WARC-Refers-To-Date``: the capture opens as it was
served. ``identical-payload-digest`` revisits need nothing: pywb finds their original by digest.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from scraper.archive.cdx import Indexed, index_all
from scraper.archive.layout import Archive
from scraper.capture.warc import REVISIT_NOT_MODIFIED, find_warcs, same_profile
from scraper.errors import UsageError

COLLECTION = "archive"
HOST = "127.0.0.1"  # replay is for the person at this machine; never on a public interface
_STOPS = {signal.SIGINT, signal.SIGTERM}


@dataclass(frozen=True, slots=True)
class ReplaySetup:
    folder: Path  # pywb's working folder: temporary, removed when the replay ends
    indexed: tuple[Indexed, ...]

    def url(self, port: int) -> str:
        return f"http://{HOST}:{port}/{COLLECTION}/"


@contextlib.contextmanager
def prepared(root: Path) -> Iterator[ReplaySetup]:
    """Index what is not indexed yet and write pywb's config into a temporary folder, which is
    removed when the block ends: the block ends in ``serve``, whose server removes it instead."""
    if importlib.util.find_spec("pywb") is None:
        raise UsageError("replay needs pywb: pip install '.[replay]' in the checkout")
    warcs = Archive(root).warcs
    if not warcs.is_dir():
        raise UsageError(f"{root}: no warc/ folder: nothing archived here yet")
    try:
        folder = Path(tempfile.mkdtemp(prefix="scraper-replay-"))
    except OSError as exc:
        raise UsageError(f"cannot make a temporary folder for pywb: {exc.strerror or exc}") from exc
    try:
        yield _setup(folder, warcs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _setup(folder: Path, warcs: Path) -> ReplaySetup:
    indexes = folder / "indexes"
    indexed = tuple(index_all(find_warcs([warcs]), elsewhere=indexes))
    present = [i.index for i in indexed if i.index.exists()]  # an old index still serves what it lists
    if not present:
        raise UsageError(f"{warcs}: no WARC file could be indexed, nothing to replay")
    where = str(warcs.resolve()) + os.sep  # pywb joins this prefix and the index's file name
    # JSON is YAML: no YAML writer needed for a config this small
    paths = {"index_paths": str(indexes), "archive_paths": where}
    config = {"collections": {COLLECTION: paths}, "enable_memento": True}
    try:
        indexes.mkdir(exist_ok=True)
        for number, index in enumerate(present):
            if index.parent != indexes:  # beside its WARC: pywb reads every index from one folder
                (indexes / f"{number}-{index.name}").symlink_to(index.resolve())
        (folder / "config.yaml").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{folder}: cannot write pywb config: {exc.strerror or exc}") from exc
    return ReplaySetup(folder, indexed)


def listen(port: int) -> socket.socket:
    """A socket listening on ``HOST:port`` for pywb to serve on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # connections of a replay just stopped, in TIME_WAIT, must not hold the port; a listener still does
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"--port: {HOST}:{port} is in use by another program; choose another port") from exc
        raise UsageError(f"--port: cannot listen on {HOST}:{port}: {exc.strerror or exc}") from exc
    return sock


def serve(setup: ReplaySetup, listener: socket.socket, farewell: str) -> NoReturn:
    """Become the pywb server on ``listener``; ``farewell`` is its last line, when a signal stops it.

    Ctrl-C and SIGTERM are blocked across the exec, which keeps them pending (the new program
    starts with default handlers, which would print a traceback or end it with no word): the
    server takes them when it can answer them."""
    sys.stdout.flush()
    sys.stderr.flush()
    listener.set_inheritable(True)
    argv = [sys.executable, "-m", "scraper.archive.replay", str(setup.folder), str(listener.fileno()), farewell]
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        os.execv(argv[0], argv)
    except OSError as exc:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
        raise UsageError(f"cannot start the replay server: {exc.strerror or exc}") from exc


# --- inside the pywb process ---------------------------------------------------------------


def _main(argv: list[str]) -> NoReturn:
    folder, fd, farewell = argv
    stops = {sig for sig in _STOPS if signal.getsignal(sig) != signal.SIG_IGN}  # ignored from the start: stays so
    for sig in stops:
        signal.signal(sig, signal.default_int_handler)
    try:
        with contextlib.suppress(KeyboardInterrupt):  # a stop while pywb was starting
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)  # one that came before the exec raises here
            _serve(Path(folder), int(fd), stops)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the config and indexes made for this replay
    sys.stderr.write(farewell + "\n")
    sys.exit(130)


def _serve(folder: Path, fd: int, stops: set[signal.Signals]) -> None:
    """Serve until one of ``stops`` comes."""
    import warnings

    # scraper's own imports loaded ssl before gevent could patch it; replay makes no TLS calls
    warnings.filterwarnings("ignore", message="Monkey-patching ssl after ssl")
    from gevent import monkey

    monkey.patch_all()
    import gevent
    from gevent.pywsgi import WSGIServer
    from pywb.apps.frontendapp import FrontEndApp
    from pywb.utils.geventserver import RequestURIWSGIHandler
    from pywb.warcserver.resource.resolvingloader import ResolvingLoader

    ResolvingLoader.load_headers_and_payload = _resolving(ResolvingLoader.load_headers_and_payload)
    os.chdir(folder)  # pywb reads ./config.yaml
    server = WSGIServer(socket.socket(fileno=fd), FrontEndApp(), handler_class=RequestURIWSGIHandler)
    # in gevent's loop, not as KeyboardInterrupt: its hub prints a traceback for that
    for sig in stops:
        gevent.signal_handler(sig, server.stop)
    server.serve_forever()


def _resolving(plain: Callable[..., tuple[Any, Any]]) -> Callable[..., tuple[Any, Any]]:
    def load_headers_and_payload(loader: Any, cdx: Any, failed_files: list[str], cdx_loader: Any) -> tuple[Any, Any]:
        headers, payload = plain(loader, cdx, failed_files, cdx_loader)
        # pywb hands back the revisit itself (a 3xx, so no payload looked for): replace it
        if headers is None or headers is not payload or not _not_modified(headers):
            return headers, payload
        original = _original(loader, headers, failed_files, cdx_loader)
        _close(headers)
        return original, original

    return load_headers_and_payload


def _not_modified(record: Any) -> bool:
    profile = record.rec_headers.get_header("WARC-Profile")
    return bool(record.rec_type == "revisit" and same_profile(profile, REVISIT_NOT_MODIFIED))


def _original(loader: Any, revisit: Any, failed_files: list[str], cdx_loader: Any) -> Any:
    from pywb.warcserver.resource.resolvingloader import ArchiveLoadFailed

    headers = revisit.rec_headers
    uri = headers.get_header("WARC-Refers-To-Target-URI") or headers.get_header("WARC-Target-URI")
    wanted = headers.get_header("WARC-Refers-To")
    date = headers.get_header("WARC-Refers-To-Date") or headers.get_header("WARC-Date") or ""
    for cdx in loader.load_cdx_for_dupe(uri, _timestamp(date), None, cdx_loader):
        try:
            record = loader._resolve_path_load(cdx, False, failed_files)
        except ArchiveLoadFailed:
            continue
        if not wanted or record.rec_headers.get_header("WARC-Record-ID") == wanted:
            return record
        _close(record)
    raise ArchiveLoadFailed(f"{uri}: the capture this revisit refers to ({wanted}) is not in the archive")


def _timestamp(warc_date: str) -> str:
    """``2024-05-01T12:00:00.123Z`` -> ``20240501120000``, the form index lookups take."""
    return re.sub(r"\D", "", warc_date)[:14]


def _close(record: Any) -> None:
    with contextlib.suppress(Exception):  # closing a spent stream: nothing worth reporting
        record.raw_stream.close()


if __name__ == "__main__":
    _main(sys.argv[1:])
