"""One exception tree for the whole package.

    ScraperError
     ├── ConfigError        bad config file, key or value (exit code 2)
     ├── UsageError         bad command-line input: missing file, non-http URL (exit code 2)
     ├── FetchError         one URL could not be fetched (recorded, the run goes on)
     ├── ArchiveError       a WARC could not be written or read
     ├── StoreError         a text or JSON file could not be written
     └── WorkerError        a worker process died under a task (that task fails, the run goes on)

Only ``cli.py`` turns these into exit codes; every other module raises or records them.
"""


class ScraperError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(ScraperError):
    pass


class UsageError(ScraperError):
    pass


class FetchError(ScraperError):
    pass


class ArchiveError(ScraperError):
    pass


class StoreError(ScraperError):
    pass


class WorkerError(ScraperError):
    pass
