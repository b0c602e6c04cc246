"""What a scheduled run reports: per-site figures and failures, the WARC files it wrote, notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scraper.watch.quality import CheckReport


@dataclass
class SiteReport:
    discovered: int = 0
    new: int = 0
    fetched: int = 0
    archived: int = 0
    extracted: int = 0
    failed: int = 0
    skipped_robots: int = 0
    feeds_unchanged: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    discovery_cut: str = ""  # why discovery stopped before it had read every feed and sitemap

    def fail(self, url: str, reason: str) -> None:
        self.failed += 1
        self.failures.append((url, reason))

    def failure_lines(self) -> list[str]:
        """One line per reason: an unreachable site fails every URL for the same reason."""
        grouped: dict[str, list[str]] = {}
        for url, reason in self.failures:
            grouped.setdefault(reason, []).append(url)
        return [
            f"{urls[0]}: {reason}" if len(urls) == 1 else f"{len(urls)} URLs (first {urls[0]}): {reason}"
            for reason, urls in grouped.items()
        ]

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}


@dataclass(frozen=True)
class RunResult:
    sites: dict[str, SiteReport]
    warc_files: tuple[Path, ...]
    interrupted: bool
    notes: tuple[str, ...] = ()  # repairs of WARC files a killed run left open; discovery cut; files not indexed
    quality: CheckReport | None = None  # the quality watch over the last 24 hours, after the run

    @property
    def failed(self) -> int:
        return sum(r.failed for r in self.sites.values())
