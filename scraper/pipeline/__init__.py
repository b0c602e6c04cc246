"""The pipeline: the one place that turns a URL or a stored record into WARC records, texts and
catalog rows. Every command that captures or re-reads a page goes through it.

- ``capture``: fetch and archive (``Capturer.page`` for an article, ``Capturer.source`` for a
  feed, sitemap or robots.txt);
- ``store``: extract and store (``judge``, the one rule of what gives a text; ``extract``, which
  writes the text and JSON);
- ``reread``: re-clean WARC files, parse a saved page;
- ``workers`` (processes for the CPU-bound part), ``distributed`` (a re-clean on a Dask cluster).

The scheduled run (``scraper.schedule``) only decides what to fetch, when and how politely.
"""
