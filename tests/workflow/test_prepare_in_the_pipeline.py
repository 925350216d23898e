"""Raw data in the bucket, named by a request's `prepare` section, is converted by the
Prepare Dataset state and trained on; a bad mapping ends the run before anything exists."""

from __future__ import annotations

import csv
import io
import json

import boto3
import pytest

from bedrock_customize.offline import engine as offline
from customization.vocabulary import REPORT_HTML, REPORT_JSON
from infra import constants as c

EXAMPLES = offline.ROOT / "examples" / "raw"


@pytest.fixture
def session(local_template):
    with offline.OfflineEngine(local_template, log=lambda _: None).session(region="us-east-1") as session:
        yield session


def put(session, key: str, body: bytes) -> str:
    boto3.client("s3", region_name=session.region).put_object(Bucket=session.bucket, Key=key, Body=body)
    return f"s3://{session.bucket}/{key}"


def test_a_raw_csv_in_the_bucket_is_prepared_then_trained_on(session):
    source = put(session, "raw/dialogues.csv", (EXAMPLES / "dialogues.csv").read_bytes())
    request = {"base_model": "nova-lite", "prepare": {
        "source": source, "map": {"prompt": "dialogue", "completion": "summary"}, "system": "Summarize the dialogue.",
        "validation_fraction": 0.1, "test_fraction": 0.15,
    }, "deployment": {"mode": "on_demand"}, "evaluation": {"max_samples": 5}}
    result = session.execute(request, "prepared-run")
    assert result.status == "SUCCEEDED", result.error
    assert result.states[:3] == [c.RAW_DATA, c.PREPARE_DATASET, c.VALIDATE_REQUEST]
    report = json.loads(result.objects["prepared/prepare-report.json"])
    assert report["source"] == source and report["records_read"] == 60 and report["shapes"] == {"mapped": 60}
    trained = json.loads(result.objects["validation-report.json"])["split"]["training_uri"]
    assert trained.endswith("runs/prepared-run/prepared/train.jsonl")
    first = json.loads(result.objects["prepared/train.jsonl"].splitlines()[0])
    assert first["system"] == [{"text": "Summarize the dialogue."}] and first["messages"][1]["role"] == "assistant"
    assert result.resources["leaked"] == []


def test_a_folder_of_pages_is_prepared_for_continued_pretraining(local_template):
    with offline.OfflineEngine(local_template, log=lambda _: None).session(region="us-west-2") as session:
        for page in sorted((EXAMPLES / "docs").iterdir()):
            put(session, f"raw/docs/{page.name}", page.read_bytes())
        request = {"base_model": "titan-text-express", "customization_type": "CONTINUED_PRE_TRAINING",
                   "prepare": {"source": f"s3://{session.bucket}/raw/docs/", "test_fraction": 0.2},
                   "evaluation": {"max_samples": 2}}
        result = session.execute(request, "prepared-cpt")
    assert result.status == "SUCCEEDED", result.error
    report = json.loads(result.objects["prepared/prepare-report.json"])
    assert report["shapes"] == {"text": 8} and sum(report["records_written"].values()) == 8


def upload_shapes(session) -> str:
    """The raw image records and their images, in the bucket; returns the records' URI."""
    source = put(session, "raw/vision/shapes.jsonl", (EXAMPLES / "shapes.jsonl").read_bytes())
    for image in sorted((EXAMPLES / "shapes").iterdir()):
        put(session, f"raw/vision/shapes/{image.name}", image.read_bytes())
    return source


def test_raw_image_records_in_the_bucket_name_their_images_beside_them(local_template):
    with offline.OfflineEngine(local_template, log=lambda _: None).session(region="us-west-2") as session:
        source = upload_shapes(session)
        request = {"base_model": "llama3.2-11b", "prepare": {"source": source, "test_fraction": 0.1},
                   "deployment": {"mode": "provisioned", "max_hours": 2}, "evaluation": {"max_samples": 2}}
        result = session.execute(request, "prepared-vision")
    assert result.status == "SUCCEEDED", result.error
    first = json.loads(result.objects["prepared/train.jsonl"].splitlines()[0])
    image = first["messages"][0]["content"][0]["image"]
    assert image["source"]["s3Location"]["uri"].startswith(f"s3://{session.bucket}/raw/vision/shapes/")
    datasets = json.loads(result.objects["validation-report.json"])["datasets"]
    assert datasets[0]["skipped"] == []  # Validate Request read each image's size and pixels in S3
    # The evaluation showed both models each test image, as bytes: Llama's Converse API reads no S3.
    shown = result.simulator.media_seen
    assert len(shown) == 4 and {source for _, _, source in shown} == {"bytes"}
    assert len({model for model, _, _ in shown}) == 2  # the base model and the custom model's throughput
    report = json.loads(result.objects[REPORT_JSON])
    assert all(sample["media"] and sample["media"][0].startswith(f"s3://{session.bucket}/raw/vision/shapes/")
               for sample in report["samples"])
    assert result.objects[REPORT_HTML].count(b"<img src='data:image/png;base64,") == 2


def test_a_nova_models_test_images_are_sent_from_s3(local_template):
    with offline.OfflineEngine(local_template, log=lambda _: None).session(region="us-east-1") as session:
        source = upload_shapes(session)
        request = {"base_model": "nova-lite", "prepare": {"source": source, "test_fraction": 0.1},
                   "deployment": {"mode": "on_demand"}, "evaluation": {"max_samples": 2}}
        result = session.execute(request, "prepared-vision-nova")
    assert result.status == "SUCCEEDED", result.error
    shown = result.simulator.media_seen
    assert len(shown) == 4 and {source for _, _, source in shown} == {"s3"}


def test_a_mapping_that_names_a_missing_field_ends_the_run_with_nothing_created(session):
    rows = io.StringIO()
    csv.writer(rows).writerows([["question", "answer"], ["q", "a"]])
    source = put(session, "raw/qa.csv", rows.getvalue().encode())
    request = {"base_model": "nova-lite", "prepare": {"source": source, "map": {"prompt": "prompt", "completion": "answer"}}}
    result = session.execute(request, "bad-mapping")
    assert result.status == "FAILED" and result.error["error"] == "RequestInvalidError"
    assert "no field prompt=prompt in the input; its fields are question, answer" in result.error["cause"]
    assert c.VALIDATE_REQUEST not in result.states and result.resources["created"] == []


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        ({"source": "s3://elsewhere-bucket/raw.csv"}, "outside the pipeline bucket"),
        ({"source": "s3://BUCKET/raw.csv", "map": {"prompt": "a"}}, "prepare.map: give prompt=FIELD and completion=FIELD"),
        ({"source": "s3://BUCKET/raw.csv", "map": {"answer": "a"}}, r"prepare.map.answer.\[key\]: Input should be 'prompt'"),
        ({"source": "s3://BUCKET/raw/chats.parquet"}, "prepare.source: Parquet is read by `bedrock-customize prepare` on your machine"),
        ({"source": "s3://BUCKET/raw.csv", "from": "parquet"}, r"prepare.from: Input should be 'auto'"),
    ],
)
def test_bad_prepare_sections_are_rejected_by_the_request_rules(prepare, message):
    from customization.core.request_rules import parse_request
    from customization.errors import RequestInvalidError

    bucket = "pipeline-bucket"
    section = {**prepare, "source": prepare["source"].replace("BUCKET", bucket)}
    with pytest.raises(RequestInvalidError, match=message):
        parse_request({"base_model": "nova-lite", "prepare": section}, bucket=bucket)
    with pytest.raises(RequestInvalidError, match="training_data is what prepare makes"):
        parse_request({"base_model": "nova-lite", "training_data": f"s3://{bucket}/t.jsonl",
                       "prepare": {"source": f"s3://{bucket}/raw.csv"}}, bucket=bucket)
