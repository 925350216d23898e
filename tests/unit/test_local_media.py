"""Media named relative to a local dataset: checked on disk as they will be in S3, refused
before anything is uploaded when missing or outside the folder, and uploaded beside the
dataset with the names rewritten to where they went."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from bedrock_customize import local_media
from bedrock_customize.cli import main
from bedrock_customize.requests import RequestFileError, local_datasets
from tests.images import png


def image_record(uri: str, n: int) -> dict:
    return {"schemaVersion": "bedrock-conversation-2024", "messages": [
        {"role": "user", "content": [{"image": {"format": "png", "source": {"s3Location": {"uri": uri}}}},
                                     {"text": f"What is in picture {n}?"}]},
        {"role": "assistant", "content": [{"text": f"A grey square, number {n}."}]},
    ]}


def dataset(folder: Path, count: int, size: tuple[int, int] = (32, 32), name: str = "train.jsonl") -> Path:
    (folder / "media").mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / "media" / f"p{n}.png").write_bytes(png(*size))
    path = folder / name
    path.write_text("".join(json.dumps(image_record(f"media/p{n}.png", n)) + "\n" for n in range(count)))
    return path


def test_validate_reads_relative_media_from_the_dataset_s_folder_and_names_the_local_file(tmp_path, capsys):
    good = dataset(tmp_path / "good", 110)
    assert main(["validate", "--base-model", "llama3.2-11b", "--json", str(good)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert not {s["rule"] for s in report["skipped"]} & {"media-size", "image-dimensions"}  # checked, not skipped
    big = dataset(tmp_path / "big", 110, size=(9000, 16))
    assert main(["validate", "--base-model", "llama3.2-11b", str(big)]) == 1
    out = capsys.readouterr().out
    assert f"line 1: image-dimensions: messages[0].content[0]: {tmp_path / 'big'}/media/p0.png is 9000x16 pixels" in out
    (tmp_path / "good" / "media" / "p3.png").unlink()
    assert main(["validate", "--base-model", "llama3.2-11b", str(good)]) == 1
    assert f"line 4: media-missing: messages[0].content[0]: {tmp_path / 'good'}/media/p3.png does not exist" in capsys.readouterr().out


def test_a_request_naming_missing_or_escaping_media_fails_before_anything_is_uploaded(tmp_path):
    path = dataset(tmp_path, 3)
    assert local_datasets({"training_data": "train.jsonl"}, tmp_path) == {"training_data": path}
    (tmp_path / "media" / "p1.png").unlink()
    with pytest.raises(RequestFileError, match=r"training_data: train.jsonl line 2: media 'media/p1.png' not found in"):
        local_datasets({"training_data": "train.jsonl"}, tmp_path)
    path.write_text(json.dumps(image_record("../secret.png", 0)) + "\n")
    with pytest.raises(RequestFileError, match=r"line 1: media '../secret.png' leaves the dataset's folder"):
        local_datasets({"training_data": "train.jsonl"}, tmp_path)


@mock_aws
def test_upload_puts_each_named_image_once_beside_the_dataset_and_rewrites_the_names(tmp_path):
    path = dataset(tmp_path, 4)
    with path.open("a") as handle:  # an image named twice, and one already in S3, kept as it is
        handle.write(json.dumps(image_record("media/p0.png", 9)) + "\n")
        handle.write(json.dumps(image_record("s3://elsewhere/kept.png", 10)) + "\n")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="pipeline")
    uri, media = local_media.upload(s3, path, "pipeline", "datasets/run-1/training_data/train.jsonl")
    assert uri == "s3://pipeline/datasets/run-1/training_data/train.jsonl" and media == 4
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="pipeline")["Contents"])
    assert keys == [*(f"datasets/run-1/training_data/media/p{n}.png" for n in range(4)), "datasets/run-1/training_data/train.jsonl"]
    body = s3.get_object(Bucket="pipeline", Key="datasets/run-1/training_data/train.jsonl")["Body"].read().decode()
    uris = [json.loads(line)["messages"][0]["content"][0]["image"]["source"]["s3Location"]["uri"] for line in body.splitlines()]
    assert uris[0] == "s3://pipeline/datasets/run-1/training_data/media/p0.png" and uris[4] == uris[0]
    assert uris[5] == "s3://elsewhere/kept.png"
    assert s3.get_object(Bucket="pipeline", Key="datasets/run-1/training_data/media/p2.png")["Body"].read() == png(32, 32)
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"prompt": "a", "completion": "b"}\n')  # no media: uploaded byte for byte
    assert local_media.upload(s3, plain, "pipeline", "datasets/run-1/p/plain.jsonl") == ("s3://pipeline/datasets/run-1/p/plain.jsonl", 0)
    assert s3.get_object(Bucket="pipeline", Key="datasets/run-1/p/plain.jsonl")["Body"].read() == plain.read_bytes()


def test_in_the_pipeline_raw_image_paths_resolve_beside_the_raw_data_and_may_not_leave_it():
    from customization.core.prepare_dataset import images_beside
    from customization.datasets.conversion import ConversionError

    resolve = images_beside("s3://pipeline/raw/shapes.jsonl")
    assert resolve("line 1", "shapes/red.png") == "s3://pipeline/raw/shapes/red.png"
    assert resolve("line 1", "s3://pipeline/other/blue.png") == "s3://pipeline/other/blue.png"
    for bad in ("../secret.png", "/etc/passwd", "https://example.com/a.png"):
        with pytest.raises(ConversionError, match=f"line 2: image '{bad}' is neither an s3:// URI nor a path beside"):
            resolve("line 2", bad)
