"""Media lookups at scale: sizes from listings (never more calls than objects), image
dimensions from headers, and the rules that use them."""

from __future__ import annotations

import json
import random

from customization.datasets.media import MediaLookups, image_dimensions
from customization.datasets.rules import RecordRules
from customization.datasets.validator import validate_dataset
from customization.registry import load_registry
from tests.datasets import record
from tests.fakes import SizesFrom
from tests.images import png

REGISTRY = load_registry()


def images(count: int) -> dict[str, int]:
    return {f"s3://data/images/img-{i:06d}.png": 1000 + i for i in range(count)}


def test_media_in_key_order_cost_one_listing_per_thousand():
    sizes = images(5000)
    lookups = MediaLookups(SizesFrom(sizes))
    assert all(lookups.size(uri) == size for uri, size in sizes.items())
    assert lookups.calls["list"] == 5
    # A key inside a listed range that was not listed does not exist, and costs no call.
    assert lookups.size("s3://data/images/img-000100x.png") is None and lookups.calls["list"] == 5


def test_media_in_random_order_never_cost_more_calls_than_objects():
    sizes = images(3000)
    uris = list(sizes)
    random.Random(3).shuffle(uris)
    lookups = MediaLookups(SizesFrom(sizes))
    assert [lookups.size(uri) for uri in uris[:500]] == [sizes[uri] for uri in uris[:500]]
    assert lookups.calls["list"] <= 500


def test_dimensions_come_from_the_header():
    assert image_dimensions(png(640, 480)[:64]) == (640, 480)
    assert image_dimensions(b"not an image") is None


def vision_record(index: int, uri: str) -> dict:
    rec = record("conversation", index)
    rec["messages"][0]["content"].append({"image": {"format": "png", "source": {"s3Location": {"uri": uri}}}})
    return rec


def test_llama_vision_images_outside_the_pixel_limits_are_reported_at_their_line():
    # Given images of 512x512, 9000x20 and one whose header says nothing
    uris = {"ok": "s3://data/i/ok.png", "wide": "s3://data/i/wide.png", "broken": "s3://data/i/broken.png"}
    headers = {uris["ok"]: png(512, 512), uris["wide"]: png(9000, 20), uris["broken"]: b"\x00" * 40}
    source = SizesFrom({uri: len(body) for uri, body in headers.items()}, headers)
    model = REGISTRY.resolve("llama3.2-11b")
    lines = [json.dumps(record("conversation", i)).encode() for i in range(100)]
    lines += [json.dumps(vision_record(100 + n, uris[name])).encode() for n, name in enumerate(("ok", "wide", "broken"))]
    lookups = MediaLookups(source)
    rules = RecordRules(model, model.customization("FINE_TUNING"), batch_size=None, dataset_bucket="data", media=lookups)
    # When the dataset is validated
    report = validate_dataset(lines, rules)
    lookups.close()
    # Then the wide image is an error at its line, the unreadable one a skipped check, the good one passes
    assert {(f.line, f.rule) for f in report.errors} == {(102, "image-dimensions")}
    assert "9000x20 pixels; each side must be 10 to 8192" in report.errors[0].message
    assert [s["rule"] for s in report.skipped] == ["image-dimensions"]
    assert lookups.calls["range"] == 3


def test_models_without_pixel_limits_read_no_image_header():
    uri = "s3://data/i/big.png"
    lookups = MediaLookups(SizesFrom({uri: 100}, {uri: png(9000, 9000)}))
    model = REGISTRY.resolve("nova-lite")
    rules = RecordRules(model, model.customization("FINE_TUNING"), batch_size=None, dataset_bucket="data", media=lookups)
    report = validate_dataset([json.dumps(vision_record(i, uri)).encode() for i in range(10)], rules)
    assert report.valid and lookups.calls["range"] == 0
