"""Settings: defaults < config.toml < environment < command line, read in this one place.

The config file is ``--config PATH``, else ``$SCRAPER_CONFIG``, else ``./config.toml`` when it
exists. Every key is documented in the project's config.toml. A key of the wrong type, one
this version does not know, or a value outside the key's range (``_RANGES``: no nan or inf, no
zero where zero means nothing works, no thousands of worker processes) is a ``ConfigError``
naming the file and the key.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scraper import __version__
from scraper.errors import ConfigError, UsageError

DEFAULT_USER_AGENT = f"scraper/{__version__} (news archiver)"


@dataclass(frozen=True, slots=True)
class Settings:
    out: Path = Path("archives")
    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 30.0  # seconds to connect, and between two reads of a response
    total_timeout: float = 120.0  # seconds for a whole response; a slower body is cut ("time")
    max_redirects: int = 10
    max_body_bytes: int = 20_000_000  # per response, on the wire and after decompression
    retries: int = 3  # attempts after the first, on connection errors, timeouts, 429 and 5xx
    backoff: float = 1.0  # seconds before the first retry, doubled for each next one
    backoff_max: float = 60.0
    retry_after_max: float = 300.0  # a longer Retry-After is not waited for: the URL fails
    connect_to: tuple[tuple[str, str], ...] = ()  # (origin, target origin)
    allow_private_addresses: bool = False  # loopback, private, link-local hosts (connect_to targets always)
    jobs: int = 1  # worker processes of a re-clean
    run_jobs: int = 1  # worker processes extracting during a scheduled run
    warc_max_bytes: int = 1_000_000_000  # a run starts a new WARC file past this size
    delay: float = 1.0  # seconds between two requests to one host (robots.txt Crawl-delay may ask more)
    obey_robots: bool = True
    sites: tuple[str, ...] = ()  # sites a scheduled run visits; empty: all
    use_sitemaps: bool = True
    max_attempts: int = 5  # a failing article is given up after this many runs
    retry_backoff: float = 1800.0  # seconds before retrying a failed article, doubled after each failure
    crawl_delay_max: float = 60.0  # a robots.txt Crawl-delay is honoured up to this many seconds
    max_sitemaps: int = 200  # sitemaps (index children included) one site's run reads
    discovery_share: float = 0.5  # of --time-budget, the most that one site's discovery may take
    extract_seconds: float = 60.0  # one page's extraction; past it the page fails
    extract_memory_mb: int = 400  # one extraction's memory; past it the page fails


# (section, key) in config.toml -> Settings field
_KEYS: dict[tuple[str, str], str] = {
    ("output", "dir"): "out",
    ("network", "user_agent"): "user_agent",
    ("network", "timeout"): "timeout",
    ("network", "total_timeout"): "total_timeout",
    ("network", "max_redirects"): "max_redirects",
    ("network", "max_body_bytes"): "max_body_bytes",
    ("network", "retries"): "retries",
    ("network", "backoff"): "backoff",
    ("network", "backoff_max"): "backoff_max",
    ("network", "retry_after_max"): "retry_after_max",
    ("network", "connect_to"): "connect_to",
    ("network", "allow_private_addresses"): "allow_private_addresses",
    ("reclean", "jobs"): "jobs",
    ("output", "warc_max_bytes"): "warc_max_bytes",
    ("politeness", "delay"): "delay",
    ("politeness", "obey_robots"): "obey_robots",
    ("run", "sites"): "sites",
    ("run", "use_sitemaps"): "use_sitemaps",
    ("run", "max_attempts"): "max_attempts",
    ("run", "retry_backoff"): "retry_backoff",
    ("run", "jobs"): "run_jobs",
    ("politeness", "crawl_delay_max"): "crawl_delay_max",
    ("run", "max_sitemaps"): "max_sitemaps",
    ("run", "discovery_share"): "discovery_share",
    ("extract", "time_limit"): "extract_seconds",
    ("extract", "memory_mb"): "extract_memory_mb",
}
_ENV = {"SCRAPER_OUT": "out", "SCRAPER_USER_AGENT": "user_agent", "SCRAPER_JOBS": "jobs"}
_FLAGS = {"run_jobs": "--jobs", "sites": "--site"}  # a field whose command-line option is not --<field>
_TYPES = {f.name: str(f.type) for f in fields(Settings)}

_DAY = 86_400.0
_CONFIG_MAX_BYTES = 1 << 20  # a config file is a few KiB; /dev/zero or a log file is refused unread
MIN_WARC_BYTES = 64 * 1024  # below one record of a small page: every record would start a new file
MAX_USER_AGENT = 512  # characters; servers refuse header lines of a few KiB
MAX_DURATION = 100 * 365.25 * _DAY  # parse_duration's ceiling: datetimes and waits overflow past it
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")  # a time of day: 06:00, 6:00, 06:00:30


def max_jobs() -> int:
    """Most worker processes a command forks: enough for any machine, never thousands."""
    return max(32, 4 * (os.cpu_count() or 1))


# the least and most value of each number field (both included); None: no ceiling.
# Every wait is bounded (a day); jobs are bounded by max_jobs().
_RANGES: dict[str, tuple[float, float | None]] = {
    "timeout": (0.001, _DAY),
    "total_timeout": (0.001, _DAY),
    "max_redirects": (0, 100),
    "max_body_bytes": (1, 1 << 30),
    "retries": (0, 100),
    "backoff": (0, _DAY),
    "backoff_max": (0, _DAY),
    "retry_after_max": (0, _DAY),
    "jobs": (1, None),
    "run_jobs": (1, None),
    "warc_max_bytes": (MIN_WARC_BYTES, None),
    "delay": (0, _DAY),
    "max_attempts": (1, 1000),
    "retry_backoff": (0, 30 * _DAY),  # the catalog never waits longer than 30 days anyway
    "crawl_delay_max": (0, _DAY),
    "max_sitemaps": (1, 100_000),
    "discovery_share": (0.05, 1),
    "extract_seconds": (0.1, 3600),
    "extract_memory_mb": (100, 65536),
}


def config_file(config: Path | None = None, env: Mapping[str, str] | None = None) -> Path | None:
    """The config file a command reads: --config, else $SCRAPER_CONFIG, else ./config.toml if there."""
    env = os.environ if env is None else env
    path = config or (Path(env["SCRAPER_CONFIG"]) if env.get("SCRAPER_CONFIG") else None)
    if path is None and Path("config.toml").is_file():
        path = Path("config.toml")
    return path


def load_settings(config: Path | None = None, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    env = os.environ if env is None else env
    settings = Settings()
    path = config_file(config, env)
    if path is not None:
        settings = replace(settings, **_from_file(path))
    from_env = {field: coerce(field, env[name], f"${name}") for name, field in _ENV.items() if env.get(name)}
    settings = replace(settings, **from_env)
    given = {k: coerce(k, v, _FLAGS.get(k, f"--{k.replace('_', '-')}")) for k, v in overrides.items() if v is not None}
    return replace(settings, **given)


def _from_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            raw = file.read(_CONFIG_MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror or exc}") from exc
    if len(raw) > _CONFIG_MAX_BYTES:
        raise ConfigError(f"{path}: not a config file: larger than {_CONFIG_MAX_BYTES} bytes")
    try:  # utf-8-sig: a file saved by an editor that writes a byte order mark is read all the same
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    values: dict[str, Any] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {section} must be a table like [{section}]")
        for key, value in table.items():
            field = _KEYS.get((section, key))
            if field is None:
                raise ConfigError(f"{path}: unknown key {section}.{key}")
            if isinstance(value, str) and _TYPES[field] in _UNQUOTED:  # "3" is text in TOML: a typo, not a number
                raise ConfigError(f"{path}: {section}.{key} must be {_UNQUOTED[_TYPES[field]]}, got {value!r}")
            values[field] = coerce(field, value, f"{path}: {section}.{key}")
    return values


# what a config file writes without quotes; the environment's values are all text, and coerce reads them
_UNQUOTED = {
    "bool": "true or false, without quotes",
    "int": "a number, without quotes",
    "float": "a number, without quotes",
}


def coerce(field: str, value: Any, where: str) -> Any:
    """The value as the field's type, or a ConfigError saying what was expected."""
    kind = _TYPES[field]
    if field == "connect_to":
        return parse_connect_to(value, where)
    if kind == "Path":
        if isinstance(value, str | Path) and str(value) and "\x00" not in str(value):
            return Path(value)
        raise ConfigError(f"{where} must be a folder path, got {value!r}")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    if field == "sites":
        return _site_names(value, where)
    if field == "user_agent":
        return _user_agent(value, where)
    if kind == "str":
        if isinstance(value, str) and value:
            return value
        raise ConfigError(f"{where} must be a non-empty string, got {value!r}")
    return _number(field, kind, value, where)


def _number(field: str, kind: str, value: Any, where: str) -> int | float:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value) if kind == "float" else int(value)
    least, most = _RANGES[field]
    if field in ("jobs", "run_jobs"):
        most = max_jobs()
    shown = f"from {_plain(least)} to {_plain(most)}" if most is not None else f"at least {_plain(least)}"
    ok = isinstance(value, int) if kind == "int" else isinstance(value, int | float)
    if not ok or isinstance(value, bool) or value != value:  # "!=": nan is no number here
        expected = "a whole number" if kind == "int" else "a number"
        raise ConfigError(f"{where} must be {expected} {shown}, got {value!r:.60}")
    if not math.isfinite(value):
        raise ConfigError(f"{where} must be a finite number, got {value!r}")
    if value < least or (most is not None and value > most):
        raise ConfigError(f"{where} must be {shown}, got {value!r:.60}")
    return float(value) if kind == "float" else int(value)


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def _user_agent(value: Any, where: str) -> str:
    """A User-Agent header value: printable ASCII, since a header is sent as bytes and a CR or LF
    would end it early (header injection); non-ASCII is refused rather than sent mangled."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a non-empty string, got {value!r}")
    if len(value) > MAX_USER_AGENT:
        raise ConfigError(f"{where} must be at most {MAX_USER_AGENT} characters, got {len(value)}")
    bad = next((c for c in value if not " " <= c <= "~"), None)
    if bad is not None:
        what = "a control character" if bad.isascii() or not bad.isprintable() else "a non-ASCII character"
        raise ConfigError(f"{where} must be printable ASCII (a header value), got {what} {bad!r} in {value!r:.80}")
    return value


def parse_duration(value: str, where: str) -> float:
    """Seconds from ``90s``, ``10m``, ``1h30m``, ``2d`` or a plain number of seconds."""
    text = value.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return _bounded(float(text), value, where)
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([dhms])", text)
    if not parts or "".join(n + u for n, u in parts) != text.replace(" ", ""):
        raise ConfigError(f"{where}: {value!r} is not a duration like 90s, 10m, 1h30m or 2d")
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    return _bounded(sum(float(n) * units[u] for n, u in parts), value, where)


def parse_since(value: str, now: datetime) -> datetime:
    """``--since``, the same in every command: a date (``2026-11-22``, midnight UTC), an ISO 8601
    time (``2026-11-22T06:00``, UTC when it has no offset), a time of day (``06:00``, UTC: the last
    one passed, today's or else yesterday's, as a cron job means it) or a duration back from
    ``now`` (``36h``, ``90m``). A moment after ``now`` is refused: nothing is archived there yet."""
    moment = _moment(value.strip(), now.astimezone(UTC))
    if moment is None:
        forms = "a date (2026-11-22), a time (2026-11-22T06:00, or 06:00: the last one passed; UTC) or a duration (36h)"
        raise UsageError(f"--since: {value!r:.60} is not {forms}")
    if moment > now:
        raise UsageError(f"--since: {value!r:.60} is in the future (now is {now.astimezone(UTC):%Y-%m-%dT%H:%MZ})")
    return moment


def _moment(text: str, now: datetime) -> datetime | None:
    clock = _CLOCK.fullmatch(text)
    with contextlib.suppress(ValueError):  # no such time of day or date (25:00, 2026-02-30)
        if clock:
            hour, minute, second = (int(part or 0) for part in clock.groups())
            today = now.replace(hour=hour, minute=minute, second=second, microsecond=0)
            return today if today <= now else today - timedelta(days=1)
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=moment.tzinfo or UTC)
    with contextlib.suppress(ConfigError):
        return now - timedelta(seconds=parse_duration(text, "--since"))
    return None


def _bounded(seconds: float, value: str, where: str) -> float:
    if not seconds <= MAX_DURATION:  # "not <=": inf from a 400-digit number is refused too
        raise ConfigError(f"{where}: {value[:40]!r} is longer than {MAX_DURATION / 3600:.0f}h (100 years)")
    return seconds


def _site_names(value: Any, where: str) -> tuple[str, ...]:
    from scraper.sites import SITES  # the registry, read only when a config names sites

    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where} must be a list of site names, got {value!r}")
    known = {s.name for s in SITES}
    unknown = [n for n in names if n.strip() not in known]
    if unknown:
        raise unknown_site(unknown[0], where)
    return tuple(n.strip() for n in names)


def unknown_site(name: str, where: str) -> ConfigError:
    """The one wording of a site name no adapter has, wherever a name is given."""
    from scraper.sites import SITES

    return ConfigError(f"{where}: unknown site {name!r} (known: {', '.join(sorted(s.name for s in SITES))})")


def parse_connect_to(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """``{"https://a.ru": "http://127.0.0.1:8080"}`` or ``["https://a.ru=http://127.0.0.1:8080"]``."""
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list | tuple):
        pairs = [(str(v).partition("=")[0], str(v).partition("=")[2]) for v in value]
    else:
        raise ConfigError(f"{where} must be a table of origin = target, got {value!r}")
    return tuple((origin_of(str(a), where), origin_of(str(b), where)) for a, b in pairs)


def origin_of(url: str, where: str) -> str:
    try:  # urlsplit and .port raise on a bad bracket or port
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        parts, port = urlsplit(""), None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {url!r} is not an http(s) origin like https://host[:port]")
    default = 443 if parts.scheme == "https" else 80
    port = port or default
    suffix = "" if port == default else f":{port}"
    return f"{parts.scheme}://{parts.hostname}{suffix}"
