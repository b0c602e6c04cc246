"""WARC files: the only package that uses warcio (in ``records``, which the others go through).

    writer   ``WarcFile``: gzip WARC/1.1, one gzip member per record; for every HTTP exchange a
             ``response`` (status line, headers and body bytes as received) or a ``revisit`` (a
             304, or a body identical to an earlier capture), a ``request`` and a ``metadata``
             record concurrent to it, all on disk (fsynced) before the writer returns
    sink     ``WarcSink``: one site's files in a scheduled run, continued across runs within a UTC
             day and below a size, with ``.open`` markers; ``repair_unclosed`` after a kill
    reader   ``read_responses``: the whole HTTP responses of a file, or of a ``framing.Span`` of
             it, as ``Stored`` captures, bodies decoded by ``capture.encoding`` (the decoder
             ``fetch`` uses); a torn or bad record is a ``ReadProblem`` that says where;
             ``written_as``: the name a file was written under
    checker  ``check_records``, ``record_at``: every record with its digests, for ``verify``;
             ``torn_tail``: whether a file ends with a whole record, read from its end
    records  the warcio seam: records made into bytes, and records read back and judged

``framing.spans`` cuts a file into spans cheaply, so that several processes can each read their
own share of one file.
"""

from scraper.capture.warc.checker import RecordCheck, check_records, record_at, torn_tail
from scraper.capture.warc.reader import (
    TEXT_FIELD,
    ReadProblem,
    Stored,
    find_warcs,
    is_warc,
    read_responses,
    warcs_under,
    written_as,
)
from scraper.capture.warc.sink import WarcSink, left_open, mark_open, new_warc_path, repair_unclosed
from scraper.capture.warc.writer import (
    REVISIT_IDENTICAL,
    REVISIT_NOT_MODIFIED,
    Listed,
    Original,
    WarcFile,
    Written,
    payload_digest,
    same_profile,
    warc_date,
)

__all__ = [
    "REVISIT_IDENTICAL",
    "REVISIT_NOT_MODIFIED",
    "TEXT_FIELD",
    "Listed",
    "Original",
    "ReadProblem",
    "RecordCheck",
    "Stored",
    "WarcFile",
    "WarcSink",
    "Written",
    "check_records",
    "find_warcs",
    "is_warc",
    "left_open",
    "mark_open",
    "new_warc_path",
    "payload_digest",
    "read_responses",
    "record_at",
    "repair_unclosed",
    "same_profile",
    "torn_tail",
    "warc_date",
    "warcs_under",
    "written_as",
]
