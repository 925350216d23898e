"""The rules of one base model, customization type, batch size and dataset, compiled once,
with the checks every format shares: tokens, reserved strings and media."""

from __future__ import annotations

import math
import re
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from customization.datasets.report import DatasetReport
from customization.models.s3 import S3_URI
from customization.registry import BaseModelSpec, CustomizationSpec, MediaRules

if TYPE_CHECKING:
    from customization.datasets.media import MediaLookups


class ReservedScanner:
    """Finds reserved strings fast: a memchr-speed scan for each string's last character,
    and a suffix test only where that character occurs (a regex alternation or `in` per
    string costs more than parsing the record)."""

    def __init__(self, strings: tuple[str, ...]) -> None:
        by_last: dict[str, list[str]] = {}
        for value in strings:
            by_last.setdefault(value[-1], []).append(value)
        self._groups = [(last, tuple(values)) for last, values in by_last.items()]

    def search(self, text: str) -> str | None:
        for last, values in self._groups:
            position = text.find(last)
            while position != -1:
                if text.endswith(values, 0, position + 1):
                    return next(v for v in values if text.endswith(v, 0, position + 1))
                position = text.find(last, position + 1)
        return None


class RecordRules:
    def __init__(
        self,
        model: BaseModelSpec,
        customization: CustomizationSpec,
        *,
        batch_size: int | None,
        dataset_bucket: str | None,
        media: MediaLookups | None,
    ) -> None:
        self.model = model
        self.spec = customization
        self.format = customization.data_format
        self.chars_per_token = customization.limits.chars_per_token
        self.token_limit = customization.limits.tokens_limit(batch_size)
        self.batch_size = batch_size
        self.media: MediaRules | None = customization.media
        self.dataset_bucket = dataset_bucket
        self.lookups = media
        # Image dimensions being read in the background: (line, where, uri, answer), reported at the end.
        self.pending: list[tuple[int, str, str, Future[tuple[int, int] | None]]] = []
        self.reserved = ReservedScanner(customization.reserved_strings) if customization.reserved_strings else None
        self.key_pattern = re.compile(self.media.key_pattern) if self.media and self.media.key_pattern else None
        advice = customization.advice
        self.advised_schema_version = advice.schema_version if advice else None

    def tokens(self, chars: int) -> int:
        return math.ceil(chars / self.chars_per_token)

    def check_reserved(self, text: str, where: str, line: int, report: DatasetReport) -> None:
        if self.reserved is not None:
            found = self.reserved.search(text)
            if found:
                report.error(
                    line, "reserved-keyword",
                    f"{where} contains {found!r}, which {self.model.display_name} reserves; reword it",
                )

    def count_media(self, images: int, videos: int, line: int, report: DatasetReport) -> None:
        media = self.media
        if media is None:
            return
        if images > media.max_images_per_record:
            report.error(line, "too-many-images", f"{images} images; at most {media.max_images_per_record} per record")
        if videos > media.max_videos_per_record:
            report.error(line, "too-many-videos", f"{videos} videos; at most {media.max_videos_per_record} per record")
        if images and videos and not media.mixed_media:
            report.error(line, "mixed-media", "a record may hold images or a video, not both")
        for kind, count in (("image", images), ("video", videos)):
            if count:
                if kind not in report.media_kinds and report.media_kinds and not media.mixed_media:
                    report.error(line, "mixed-media", f"the dataset already holds {next(iter(report.media_kinds))}s; it may not also hold {kind}s")
                report.media_kinds.add(kind)

    def check_media_block(self, kind: str, value: Any, where: str, line: int, report: DatasetReport) -> bool:
        """An image or video block: allowed for this model, its format, its S3 location, the
        object's key, bucket and size. True when it counts towards the record's media."""
        media = self.media
        if media is None or not (media.images if kind == "image" else media.video):
            report.error(line, "media-unsupported", f"{where}: {self.model.display_name} takes no {kind}s")
            return False
        formats = media.image_formats if kind == "image" else media.video_formats
        if type(value) is not dict or value.get("format") not in formats:
            got = value.get("format") if type(value) is dict else value
            report.error(line, f"{kind}-format", f"{where}: format {got!r}; allowed: {', '.join(formats)}")
            return False
        location = value.get("source", {}).get("s3Location", {}) if type(value.get("source")) is dict else {}
        uri = location.get("uri") if type(location) is dict else None
        match = S3_URI.match(uri) if type(uri) is str else None
        if not match:
            report.error(line, f"{kind}-source", f'{where}: needs "source": {{"s3Location": {{"uri": "s3://bucket/key"}}}}')
            return False
        bucket, key = match.groups()
        if self.key_pattern and not self.key_pattern.match(key):
            report.error(line, "media-key", f"{where}: {uri} may use only letters, digits and _ - / . in its key")
        if media.same_bucket:
            if self.dataset_bucket is None:
                report.skip("media-bucket", "the dataset is a local file, so its bucket is not known")
            elif bucket != self.dataset_bucket:
                report.error(line, "media-bucket", f"{where}: {uri} must sit in the dataset's bucket {self.dataset_bucket}")
        if self.lookups is None:
            report.skip("media-size", "media objects can only be checked when the dataset is in S3")
            return True
        size = self.lookups.size(uri)
        limit = media.max_image_bytes if kind == "image" else media.max_video_bytes
        if size is None:
            report.error(line, "media-missing", f"{where}: {uri} does not exist or cannot be read")
        elif size > limit:
            report.error(line, "media-size", f"{where}: {uri} is {size:,} bytes; the limit is {limit:,}")
        elif kind == "image" and (media.min_image_side or media.max_image_side):
            self.pending.append((line, where, uri, self.lookups.dimensions(uri)))
        return True

    def finish(self, report: DatasetReport) -> None:
        """Report what the background reads found: images outside the model's pixel limits."""
        media, pending, self.pending = self.media, self.pending, []
        low, high = (media.min_image_side or 1, media.max_image_side or 10**9) if media else (1, 10**9)
        for line, where, uri, answer in pending:
            dimensions = answer.result()
            if dimensions is None:
                report.skip("image-dimensions", "some image headers could not be read, so their dimensions are not checked")
            elif not all(low <= side <= high for side in dimensions):
                width, height = dimensions
                report.error(line, "image-dimensions", f"{where}: {uri} is {width}x{height} pixels; each side must be {low} to {high}")
