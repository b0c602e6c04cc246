"""Opening ``catalog.sqlite``: made whole under another name, upgraded to this scraper's schema, or
refused. Whatever is at the path and is no catalog is refused, never replaced: a folder, an empty
file, a file that is not SQLite, a symlink that leads out of the archive, an SQLite file of
another program, a catalog of a newer scraper, and one that lacks a table or column this scraper
reads (``scraper.archive.catalog_rows.COLUMNS``). With ``scraper.archive.catalog``, the only sqlite3 user.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path

from scraper.archive.catalog_rows import missing_structure
from scraper.archive.layout import catalog_present, read_only_reason
from scraper.archive.schema import MIGRATIONS, SCHEMA_VERSION
from scraper.errors import CatalogError

_BUSY_TIMEOUT_S = 30.0  # another process (a status reader, a second run) may hold the write lock briefly


def _migrate(db: sqlite3.Connection, path: Path) -> int:
    """Bring the open file up to SCHEMA_VERSION inside the caller's transaction; returns the old version."""
    found = _version(db, path)
    for version in range(found, SCHEMA_VERSION):
        for statement in MIGRATIONS[version]:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {version + 1}")  # a pragma takes no bound parameters
    return found


def open_writer(path: Path) -> sqlite3.Connection:
    """The catalog to read and write, created on first use, upgraded to this scraper's schema."""
    present = catalog_present(path)
    for where in (path.parent, path):
        if why := read_only_reason(where):
            raise CatalogError(f"{where}: read-only ({why}): the catalog cannot be written")
    if not present:
        _create(path)
    else:  # judged read-only first: a writer that refuses on closing would checkpoint a foreign -wal into the file
        probe = _connect(path, "?mode=ro")
        try:
            if _version(probe, path) == SCHEMA_VERSION:  # an older one is judged once migrated
                _whole(probe, path)
        finally:
            probe.close()
    db = _connect(path, "")
    try:
        _version(db, path)  # before the first write: a file of a newer scraper or of another program stays as it is
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")  # under WAL, NORMAL could lose the last commits
        _migrated(db, path)
    except BaseException:
        db.close()
        raise
    return db


def open_reader(path: Path) -> sqlite3.Connection:
    """The catalog read-only (``mode=ro``). Under WAL even a reader needs the ``-shm`` file beside the
    catalog; where it cannot be made (a read-only mount, another user's archive) the file is read as
    ``immutable``, which ignores any ``-wal``: only when no ``-wal`` holds commits the file lacks."""
    if not catalog_present(path):
        raise CatalogError(f"{path}: no catalog: no scheduled run has written to this archive")
    try:
        db = _connect(path, "?mode=ro")
    except sqlite3.OperationalError as exc:
        if read_only_reason(path.parent) is None:
            raise
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise CatalogError(
                f"{path}: read-only, and {wal.name} beside it holds changes the catalog file lacks, which SQLite "
                f"cannot read here ({exc}): open the archive once where it can be written, or copy it"
            ) from exc
        db = _connect(path, "?immutable=1")
    try:
        if (found := _version(db, path)) < SCHEMA_VERSION:
            raise CatalogError(
                f"{path}: schema version {found} is older than this scraper's {SCHEMA_VERSION}, and this command "
                "only reads: a command that writes (scraper run) upgrades it"
            )
        _whole(db, path)
    except BaseException:
        db.close()
        raise
    return db


def _connect(path: Path, query: str) -> sqlite3.Connection:
    """A connection that has read the file's schema: SQLite opens lazily, so errors show here."""
    target = f"{Path(os.path.abspath(path)).as_uri()}{query}"
    db = sqlite3.connect(target, uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        db.close()
        raise
    return db


def _version(db: sqlite3.Connection, path: Path) -> int:
    found = int(db.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise CatalogError(
            f"{path}: catalog schema version {found} is newer than this scraper's {SCHEMA_VERSION}: upgrade"
        )
    if found == 0 and db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise CatalogError(f"{path}: an SQLite database with tables of its own and no schema version: not a catalog")
    return found


def _whole(db: sqlite3.Connection, path: Path) -> None:
    """Every table and column this scraper reads is there: else the file is foreign or damaged."""
    if missing := missing_structure(db):
        raise CatalogError(f"{path}: a damaged or foreign catalog: {'; '.join(missing)}")


def _migrated(db: sqlite3.Connection, path: Path) -> None:
    db.execute("BEGIN IMMEDIATE")  # two first runs at once: one migrates, the other then finds it done
    try:
        _migrate(db, path)
        _whole(db, path)  # before the commit: a damaged file is left as it was
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _create(path: Path) -> None:
    """A new catalog, made under a temporary name and linked into place whole: a run killed while
    making it leaves no empty or half-made catalog, which every command would then refuse."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    try:
        db = _connect(temp, "")
        try:
            db.execute("PRAGMA journal_mode = WAL")
            _migrated(db, path)
        finally:
            db.close()  # the last connection: its -wal is checkpointed into the file and removed
        try:
            os.link(temp, path)  # never over a catalog another process made meanwhile: that one is used
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not os.path.lexists(path):
                os.replace(temp, path)
        _sync_folder(path.parent)
    finally:
        temp.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
