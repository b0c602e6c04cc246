"""One exception tree for the whole package.

    ScraperError
     ├── ConfigError        bad config file, key or value (exit code 2)
     ├── UsageError         bad command-line input: missing file, non-http URL (exit code 2)
     ├── ArchiveError       the archive cannot be written or read: a WARC, an index, a path outside it
     │    ├── CatalogError  the catalog cannot be opened or written, or is of a newer version
     │    └── StoreError    a text or JSON file cannot be written
     ├── SnapshotError      a page cannot be had, or gives no article to save as a fixture
     └── WorkerError        a worker process died under a task (that task fails, the run goes on)

A failure of one URL (a fetch, an extraction) is no exception: it is an ``Outcome`` with its
reason, recorded against that URL. Only the CLI turns these errors into exit codes; every other
module raises them or records them. (``capture.warc.records.Corrupt`` stays inside the WARC reader,
which reports it as a ``ReadProblem``.)
"""


class ScraperError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(ScraperError):
    pass


class UsageError(ScraperError):
    pass


class ArchiveError(ScraperError):
    pass


class CatalogError(ArchiveError):
    pass


class StoreError(ArchiveError):
    pass


class SnapshotError(ScraperError):
    pass


class WorkerError(ScraperError):
    pass
