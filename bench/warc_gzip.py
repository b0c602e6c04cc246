"""The cost of gzip in WARC writing: stdlib zlib against isal (ISA-L) and zlib-ng, level by level, on
real WARC records (issue 17).

Named ``warc_gzip.py``, not ``gzip.py``: a script's own folder comes first on ``sys.path``, so a
``bench/gzip.py`` would stand in for the standard ``gzip`` module in every benchmark of this folder.

The records are the writer's own: every fixture page (the response records of
``tests/fixtures/*/*.warc.gz``) and every real page of ``../shared/pages`` (when present) is written
by ``scraper.capture.warc.WarcFile`` as an exchange (response, request and metadata records) into a
temporary WARC, and the file is cut back into its gzip members, each inflated to one record's bytes.
Bodies are kept as saved (no Content-Encoding), the dearer case: a gzip- or br-encoded body barely
compresses again. The writer's cost is also measured with the bodies gzipped, as sites send them.

Each codec compresses every record as its own gzip member, as the writer does (``compressobj`` with a
gzip container, ``compress`` then ``flush``): the best of ``--rounds`` rounds, the codecs taking turns
within a round. Every output is checked to inflate, member by member, with the standard library's
zlib to the same bytes (standard gzip, so every reader is unchanged). The inflating time of each
library over the stdlib zlib level 6 output is measured too (the reader's cost).

libdeflate (the ``deflate`` package, one call per member) is the writer's codec. The reader inflates
with the standard zlib, as ``verify`` does, so that both judge a damaged member alike.

The writer's whole cost per page (``write_exchange``: records built, compressed, written, fsynced,
in a folder on /dev/shm where one is) is timed with its own codec and with the standard zlib level 6
put in its place (``writer._member``), taking turns.

Prints, per codec and level: ms per MB of records, ms per page (the three records of one exchange),
the output size against zlib level 6's, the time against zlib level 6's; then the fastest codec
whose output is no larger than zlib level 6's, and whether it meets the goal (at most a third of
zlib level 6's time), and the writer's figures. Writes ``bench/results/warc_gzip.json``.

    python bench/warc_gzip.py [--rounds 7] [--pages ../shared/pages]
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scraper.capture.warc import Stored, WarcFile, read_responses, writer
from scraper.models import Exchange

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT.parent / "shared" / "pages"
GZIP = 31  # wbits: deflate in a gzip container
WHEN = datetime(2024, 5, 1, 12, tzinfo=UTC)
REQUEST = (("Host", "example"), ("User-Agent", "scraper-bench"), ("Accept-Encoding", "gzip, deflate"))
METADATA = {"scraper-text": "text/x/000_0123456789abcdef", "software": "scraper bench"}


@dataclass(frozen=True, slots=True)
class Codec:
    name: str  # library and level, e.g. "isal 2"
    library: str
    level: int
    compressobj: Callable[[], Any]
    decompressobj: Callable[[], Any]


def codecs() -> list[Codec]:
    found = [Codec(f"zlib {n}", "zlib", n, _maker(zlib.compressobj, n), lambda: zlib.decompressobj(GZIP))
             for n in (1, 3, 6, 9)]  # fmt: skip
    try:
        from isal import isal_zlib

        found += [Codec(f"isal {n}", "isal", n, _maker(isal_zlib.compressobj, n), lambda: isal_zlib.decompressobj(GZIP))
                  for n in (0, 1, 2, 3)]  # fmt: skip
    except ImportError:
        print("isal is not installed: skipped")
    try:
        from zlib_ng import zlib_ng

        found += [Codec(f"zlib-ng {n}", "zlib-ng", n, _maker(zlib_ng.compressobj, n),
                        lambda: zlib_ng.decompressobj(GZIP)) for n in (1, 2, 3, 4, 5, 6, 7, 8, 9)]  # fmt: skip
    except ImportError:
        print("zlib-ng is not installed: skipped")
    try:
        import deflate  # libdeflate: whole buffers only, which is what a member per record is

        found += [Codec(f"libdeflate {n}", "libdeflate", n, _OneShot.maker(deflate.gzip_compress, n),
                        lambda: _OneShot(deflate.gzip_decompress)) for n in (4, 5, 6, 7, 8)]  # fmt: skip
    except ImportError:
        print("libdeflate (the deflate package) is not installed: skipped")
    return found


class _OneShot:
    """A one-call codec behind the compressobj/decompressobj interface."""

    def __init__(self, call: Callable[..., bytes | bytearray], *args: int) -> None:
        self.call, self.args = call, args

    @classmethod
    def maker(cls, call: Callable[..., bytes | bytearray], level: int) -> Callable[[], _OneShot]:
        return lambda: cls(call, level)

    def compress(self, data: bytes) -> bytes:
        return bytes(self.call(data, *self.args))

    def decompress(self, data: bytes) -> bytes:
        return bytes(self.call(data))

    def flush(self) -> bytes:
        return b""


def _maker(compressobj: Callable[..., Any], level: int) -> Callable[[], Any]:
    return lambda: compressobj(level, zlib.DEFLATED, GZIP)


# ---------------------------------------------------------------------------------------- records


def members(data: bytes) -> list[bytes]:
    """Each gzip member of a file, inflated."""
    found = []
    while data:
        inflater = zlib.decompressobj(GZIP)
        found.append(inflater.decompress(data) + inflater.flush())
        data = inflater.unused_data
    return found


def bodies(fixtures: Path, pages: Path) -> list[tuple[str, bytes]]:
    """(url, body) of every fixture response and every real page."""
    found = []
    for warc in sorted(fixtures.glob("*/*.warc.gz")):
        for record in read_responses(warc, warc.name, 50_000_000):
            if isinstance(record, Stored):
                found.append((record.capture.url, record.capture.body))
    if pages.is_dir():
        found += [(f"https://example.org/{p.relative_to(pages).as_posix()}", p.read_bytes())
                  for p in sorted(pages.glob("**/*.html"))]  # fmt: skip
    return found


def exchange(url: str, body: bytes) -> Exchange:
    encoded = body[:2] == b"\x1f\x8b"  # a body gzipped as a site sends it (``encoded``)
    return Exchange(
        url=url, started_at=WHEN, method="GET", request_headers=REQUEST, http_version="HTTP/1.1", status=200,
        reason="OK", raw_body=body, peer_ip="192.0.2.1",
        response_headers=(("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                          *((("Content-Encoding", "gzip"),) if encoded else ())),
    )  # fmt: skip


def encoded(pages: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The pages as sites serve them to a client that accepts gzip: the body at gzip level 6."""
    return [(url, gzip.compress(body, 6, mtime=0)) for url, body in pages]


def write_all(pages: list[tuple[str, bytes]], folder: Path) -> tuple[float, bytes]:
    """The pages written by the writer into a new WARC: ms per page (fsync included), the file."""
    path = folder / "bench.warc.gz"
    path.unlink(missing_ok=True)
    with WarcFile(path, path.name) as warc:
        warc.write_warcinfo({"software": "scraper bench"})
        start = time.perf_counter()
        for url, body in pages:
            warc.write_exchange(exchange(url, body), METADATA)
        per_page = (time.perf_counter() - start) * 1000 / len(pages)
    return per_page, path.read_bytes()


def stdlib_member(data: bytes) -> bytes:
    return zlib.compress(data, 6, GZIP)


def writer_figures(pages: list[tuple[str, bytes]], rounds: int) -> tuple[list[bytes], dict[str, float]]:
    """The records the writer makes of the pages (the warcinfo aside), and its cost per page and
    file size with its own codec and with the standard zlib level 6 in its place."""
    own = writer._member
    best, size, records = {"writer": float("inf"), "zlib 6": float("inf")}, {}, []
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as tmp:
        for _ in range(rounds):
            for name, member in (("writer", own), ("zlib 6", stdlib_member)):
                writer._member = member
                try:
                    gc.collect()
                    ms, data = write_all(pages, Path(tmp))
                finally:
                    writer._member = own
                best[name], size[name] = min(best[name], ms), len(data)
                if name == "writer":
                    records = members(data)[1:]
    figures = {"ms_per_page": best["writer"], "bytes": size["writer"], "zlib6_ms_per_page": best["zlib 6"],
               "zlib6_bytes": size["zlib 6"], "time_vs_zlib6": best["writer"] / best["zlib 6"],
               "size_vs_zlib6": size["writer"] / size["zlib 6"]}  # fmt: skip
    return records, figures


# ---------------------------------------------------------------------------------------- timing


def pack(codec: Codec, records: list[bytes]) -> list[bytes]:
    out = []
    for record in records:
        packer = codec.compressobj()
        out.append(packer.compress(record) + packer.flush())
    return out


def unpack(codec: Codec, packed: list[bytes]) -> int:
    size = 0
    for member in packed:
        inflater = codec.decompressobj()
        size += len(inflater.decompress(member)) + len(inflater.flush())
    return size


def timed(job: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    job()
    return time.perf_counter() - start


def sizes(found: list[Codec], records: list[bytes]) -> dict[str, int]:
    """Each codec's output size, once its members are seen to inflate to the records with the
    standard library's zlib."""
    found_sizes = {}
    for codec in found:
        packed = pack(codec, records)
        if [zlib.decompress(m, GZIP) for m in packed] != records:
            raise SystemExit(f"{codec.name}: its gzip does not inflate to the records with the standard zlib")
        found_sizes[codec.name] = sum(len(m) for m in packed)
    return found_sizes


def measure(found: list[Codec], records: list[bytes], rounds: int) -> dict[str, dict[str, float]]:
    size = sizes(found, records)
    reference = pack(next(c for c in found if c.name == "zlib 6"), records)
    libraries = {c.library: c for c in found}
    packing = dict.fromkeys([c.name for c in found], float("inf"))
    inflating = dict.fromkeys(libraries, float("inf"))
    for _ in range(rounds):
        for codec in found:
            packing[codec.name] = min(packing[codec.name], timed(lambda c=codec: pack(c, records)))  # type: ignore[misc]
        for library, codec in libraries.items():
            inflating[library] = min(inflating[library], timed(lambda c=codec: unpack(c, reference)))  # type: ignore[misc]
    mb, pages = sum(len(r) for r in records) / 1e6, len(records) / 3
    figures = {
        c.name: {
            "ms_per_mb": 1000 * packing[c.name] / mb,
            "ms_per_page": 1000 * packing[c.name] / pages,
            "bytes": size[c.name],
            "size_vs_zlib6": size[c.name] / size["zlib 6"],
            "time_vs_zlib6": packing[c.name] / packing["zlib 6"],
        }
        for c in found
    }
    for library, seconds in inflating.items():
        figures[f"inflate {library}"] = {"ms_per_mb": 1000 * seconds / mb, "ms_per_page": 1000 * seconds / pages,
                                         "time_vs_zlib": seconds / inflating["zlib"]}  # fmt: skip
    return figures


def choice(figures: dict[str, dict[str, float]], libraries: tuple[str, ...]) -> dict[str, Any]:
    """Of these libraries' levels, the fastest whose output is no larger than zlib level 6's."""
    fits = [(f["time_vs_zlib6"], name) for name, f in figures.items()
            if name.rpartition(" ")[0] in libraries and f["size_vs_zlib6"] <= 1.0]  # fmt: skip
    if not fits:
        return {"codec": None, "goal_met": False}
    ratio, name = min(fits)
    return {"codec": name, "time_vs_zlib6": round(ratio, 3), "goal_met": ratio <= 1 / 3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=ROOT / "tests" / "fixtures")
    parser.add_argument("--pages", type=Path, default=PAGES, help="the saved real pages (skipped when absent)")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds; the best counts")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "warc_gzip.json")
    args = parser.parse_args()

    pages = bodies(args.fixtures, args.pages)
    records, written = writer_figures(pages, args.rounds)
    _, served = writer_figures(encoded(pages), args.rounds)
    found = codecs()
    figures = measure(found, records, args.rounds)
    mb = sum(len(r) for r in records) / 1e6
    print(f"{len(pages)} pages, {len(records)} records, {mb:.2f} MB uncompressed; best of {args.rounds} rounds")
    print(f"{'codec':12} {'ms/MB':>7} {'ms/page':>8} {'bytes':>9} {'size/z6':>8} {'time/z6':>8}")
    for name, f in figures.items():
        if "bytes" in f:
            print(f"{name:12} {f['ms_per_mb']:7.2f} {f['ms_per_page']:8.3f} {f['bytes']:9.0f} "
                  f"{f['size_vs_zlib6']:8.3f} {f['time_vs_zlib6']:8.3f}")  # fmt: skip
        else:
            print(f"{name:12} {f['ms_per_mb']:7.2f} {f['ms_per_page']:8.3f} {'':9} {'':8} {f['time_vs_zlib']:8.3f}")
    chosen = {"isal, zlib-ng": choice(figures, ("isal", "zlib-ng")), "libdeflate": choice(figures, ("libdeflate",))}
    for libraries, best in chosen.items():
        print(f"\nfastest of {libraries} no larger than zlib 6: {best}", end="")
    print()
    print(
        f"WRITER write_exchange per page: {written['ms_per_page']:.3f} ms with its codec, "
        f"{written['zlib6_ms_per_page']:.3f} ms with zlib 6 (x{written['time_vs_zlib6']:.3f}); "
        f"file {written['bytes']} bytes against {written['zlib6_bytes']} (x{written['size_vs_zlib6']:.4f})"
    )
    print(
        f"  bodies gzipped, as sites send them: {served['ms_per_page']:.3f} ms with its codec, "
        f"{served['zlib6_ms_per_page']:.3f} ms with zlib 6 (x{served['time_vs_zlib6']:.3f}); "
        f"file x{served['size_vs_zlib6']:.4f}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg()},
        "pages": len(pages), "records": len(records), "mb": round(mb, 3), "rounds": args.rounds,
        "writer": {k: round(v, 4) for k, v in written.items()},
        "writer_gzip_bodies": {k: round(v, 4) for k, v in served.items()},
        "codecs": {n: {k: round(v, 4) for k, v in f.items()} for n, f in figures.items()},
        "choice": chosen,
    }, indent=2) + "\n", encoding="utf-8")  # fmt: skip


if __name__ == "__main__":
    main()
