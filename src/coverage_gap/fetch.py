"""Downloading the official public files into a local cache, resumably, with checksums.

The only module that touches the network, and only when a user asks for a file.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .errors import FetchError
from .io._common import sha256 as file_sha256
from .progress import progress_bar


@dataclass(frozen=True)
class Source:
    """A public file that ``coverage-gap fetch`` knows by name."""

    name: str
    url: str
    filename: str
    description: str


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "bbk2026-private",
            "https://tjekditnet.dk/sites/default/files/2026-06/"
            "BBK26_udbudt%20private%20hatigheder%20inkl.%20mobil.csv",
            "BBK26_udbudt_private_inkl_mobil.csv",
            "Bredbåndskortlægning 2026: offered speeds, homes, incl. mobile "
            "(Digitaliseringsstyrelsen, tjekditnet.dk)",
        ),
        Source(
            "dagi-kommuner",
            "https://api.dataforsyningen.dk/kommuner?format=geojson&srid=25832",
            "dagi_kommuner_25832.geojson",
            "DAGI municipality boundaries, EPSG:25832 (Klimadatastyrelsen, Dataforsyningen)",
        ),
    )
}
"""Known files; any other URL can be fetched by giving it instead of a name."""


def fetch(
    name_or_url: str,
    cache: str | Path,
    *,
    sha256: str | None = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download a named source (see :data:`SOURCES`) or a URL into ``cache``.

    A partly downloaded file (``.part``) is resumed with an HTTP range request. The
    SHA-256 of every finished file is recorded in ``cache/checksums.json``; a file
    already in the cache with its recorded checksum is not downloaded again. A given
    ``sha256`` must match.

    Raises
    ------
    FetchError
        When the host cannot be reached (with the advice to download by hand), the
        server answers with an error, or the checksum does not match.

    Examples
    --------
    >>> sorted(SOURCES)
    ['bbk2026-private', 'dagi-kommuner']
    """
    source = SOURCES.get(name_or_url)
    if source is None and urlparse(name_or_url).scheme not in ("http", "https"):
        raise FetchError(
            f"unknown source {name_or_url!r}: give one of {sorted(SOURCES)} "
            "(coverage-gap fetch --list) or an http(s) address"
        )
    url = source.url if source else name_or_url
    filename = source.filename if source else (Path(urlparse(url).path).name or "download")
    directory = Path(cache)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / filename
    record_path = directory / "checksums.json"
    records = json.loads(record_path.read_text()) if record_path.exists() else {}
    known = records.get(filename, {})
    if target.exists() and known.get("sha256") == file_sha256(target):
        if sha256 and known["sha256"] != sha256:
            raise FetchError(
                f"{target}: cached file has SHA-256 {known['sha256']}, "
                f"expected {sha256}; delete it to download again"
            )
        return target
    part = target.with_name(target.name + ".part")
    start = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "coverage_gap"})
    if start:
        request.add_header("Range", f"bytes={start}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and start:  # the .part is complete already
            response = None
        else:
            raise FetchError(f"{url}: the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        host = urlparse(url).netloc
        raise FetchError(
            f"cannot reach {host} ({getattr(exc, 'reason', exc)}): are you offline? "
            f"Download {url} by hand and put it in {directory} as {filename}"
        ) from None
    if response is not None:
        with response:
            resumed = start and response.status == 206
            total = response.headers.get("Content-Length")
            total_bytes = int(total) + (start if resumed else 0) if total else None
            bar = progress_bar(total_bytes, desc=filename, enabled=progress, unit="B")
            with bar, open(part, "ab" if resumed else "wb") as handle:
                bar.update(start if resumed else 0)
                while block := response.read(1 << 20):
                    handle.write(block)
                    bar.update(len(block))
    digest = file_sha256(part)
    if sha256 and digest != sha256:
        raise FetchError(
            f"{url}: SHA-256 {digest} does not match the expected {sha256}; "
            f"the partial file {part} was kept"
        )
    part.replace(target)
    records[filename] = {"url": url, "sha256": digest, "bytes": target.stat().st_size}
    record_path.write_text(json.dumps(records, indent=2, sort_keys=True) + "\n")
    return target
