"""The media objects a dataset references, looked up with as few S3 calls as the dataset allows.

A size comes from a listing of the object's folder, 1,000 keys a call, starting just before the
key: the listing covers the keys that follow it too, so media referenced in about key order (as
generated datasets are) cost one call per 1,000 objects, and never more than one HEAD each would.
An image's pixel dimensions come from its first bytes (a ranged GET, never the whole image),
fetched on a bounded pool while the validation goes on; they are only read where the model
limits them.
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from customization.models.s3 import split_s3_uri

HEADER_BYTES = 64 * 1024  # enough for the dimensions of PNG, GIF, WebP and JPEG (after EXIF) headers
CONCURRENCY = 32


class MediaSource(Protocol):
    """What the lookups need of S3 (the ObjectStore adapter, or a fake)."""

    def list_window(self, bucket: str, prefix: str, start_after: str) -> tuple[dict[str, int], bool]:
        """Up to 1,000 keys under `prefix` after `start_after`, with sizes; True when more follow."""

    def read_range(self, uri: str, length: int) -> bytes | None:
        """The object's first `length` bytes; None when it cannot be read."""


def image_dimensions(header: bytes) -> tuple[int, int] | None:
    """(width, height) from an image's first bytes, or None when they do not say."""
    import imagesize

    try:
        width, height = imagesize.get(io.BytesIO(header))
    except (ValueError, OSError, IndexError):
        return None
    return (width, height) if width > 0 and height > 0 else None


class _Folder:
    """What is known of one folder: the sizes listed, and the key ranges the listings covered."""

    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}
        self.covered: list[tuple[str, str | None]] = []  # (after, through) ranges; None: to the end

    def knows(self, key: str) -> bool:
        return any(after < key and (through is None or key <= through) for after, through in self.covered)


class MediaLookups:
    def __init__(self, source: MediaSource, *, concurrency: int = CONCURRENCY) -> None:
        self._source = source
        self._folders: dict[tuple[str, str], _Folder] = {}
        self._headers: dict[str, Future[tuple[int, int] | None]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._concurrency = concurrency
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def size(self, uri: str) -> int | None:
        """The object's size in bytes; None when it does not exist."""
        bucket, key = split_s3_uri(uri)
        prefix = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
        folder = self._folders.setdefault((bucket, prefix), _Folder())
        if key not in folder.sizes and not folder.knows(key):
            start_after = key[:-1]  # a proper prefix sorts before the key: the window starts at or before it
            sizes, more = self._source.list_window(bucket, prefix, start_after)
            self.calls["list"] += 1
            folder.sizes.update(sizes)
            last = max(sizes) if sizes else start_after
            folder.covered.append((start_after, last if more else None))
        return folder.sizes.get(key)

    def dimensions(self, uri: str) -> Future[tuple[int, int] | None]:
        """The image's (width, height), read in the background; None when its header cannot be read."""
        with self._lock:
            if uri not in self._headers:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="media")
                self._headers[uri] = self._pool.submit(self._read_dimensions, uri)
            return self._headers[uri]

    def _read_dimensions(self, uri: str) -> tuple[int, int] | None:
        header = self._source.read_range(uri, HEADER_BYTES)
        with self._lock:
            self.calls["range"] += 1
        return image_dimensions(header) if header else None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
