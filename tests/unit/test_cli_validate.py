"""`bedrock-customize validate`: exit codes, the human listing and the JSON report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from bedrock_customize.cli import main
from tests.datasets import record, write_dataset


@pytest.fixture
def nova_file(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "train.jsonl", "conversation", 20)


@pytest.fixture
def broken_file(tmp_path: Path) -> Path:
    path = write_dataset(tmp_path / "broken.jsonl", "conversation", 20)
    lines = path.read_text().splitlines()
    lines[4] = "{oops"
    lines[9] = json.dumps({**record("conversation", 50), "messages": [{"role": "assistant", "content": [{"text": "x"}]}]})
    lines.append(lines[0])
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_valid_file_exits_0_with_a_summary_line(nova_file, capsys):
    assert main(["validate", "--base-model", "nova-lite", str(nova_file)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"VALID: {nova_file} (20 training records) for amazon.nova-lite-v1:0:300k FINE_TUNING: 0 error(s)")
    assert "estimated at 4 characters per token" in out[0]
    assert out[1:] == ["skipped: media-bucket: the dataset is a local file, so its bucket is not known"] or out[1:] == []


def test_an_invalid_file_exits_1_listing_line_and_rule(broken_file, capsys):
    assert main(["validate", "--base-model", "amazon.nova-lite-v1:0:300k", str(broken_file)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("INVALID:") and "2 error(s), 1 warning(s)" in out[0]
    assert out[1].startswith("line 5: json: not valid JSON")
    assert out[2] == "line 10: turn-order: the first turn must be the user's"
    assert out[3] == "line 21: duplicate: same record as line 1 (warning)"


def test_json_output(broken_file, capsys):
    assert main(["validate", "--base-model", "nova-lite", "--json", str(broken_file)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and report["records"] == 21 and report["estimated_tokens"] > 0
    assert [(e["line"], e["rule"]) for e in report["errors"]] == [(5, "json"), (10, "turn-order")]
    assert [(w["line"], w["rule"]) for w in report["warnings"]] == [(21, "duplicate")]
    assert set(report["errors"][0]) >= {"line", "rule", "message"}


def test_the_validation_file_is_checked_against_its_own_limits(tmp_path, capsys):
    training = write_dataset(tmp_path / "t.jsonl", "claude_messages", 40)
    validation = write_dataset(tmp_path / "v.jsonl", "claude_messages", 1001, start=40)
    assert main(["validate", "--base-model", "haiku", "--validation", str(validation), str(training)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"INVALID: {training} (40 training records) + {validation} (1,001 validation records)")
    assert out[1] == "validation line 1001: record-count: more than 1,000 validation records, the most Anthropic Claude 3 Haiku accepts"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-model", "gpt-4"], "unknown base model 'gpt-4'; known: amazon.nova-micro"),
        (["--base-model", "nova-lite", "--customization-type", "CONTINUED_PRE_TRAINING"], "does not support CONTINUED_PRE_TRAINING; it supports: FINE_TUNING"),
    ],
)
def test_bad_invocations_exit_2_with_one_line(nova_file, capsys, args, message):
    assert main(["validate", *args, str(nova_file)]) == 2
    assert message in capsys.readouterr().err


def test_a_missing_file_exits_2(tmp_path, capsys):
    assert main(["validate", "--base-model", "nova-lite", str(tmp_path / "nope.jsonl")]) == 2
    assert "training file not found" in capsys.readouterr().err


def test_an_unknown_flag_exits_2(nova_file):
    with pytest.raises(SystemExit) as caught:
        main(["validate", "--base-model", "nova-lite", "--frobnicate", str(nova_file)])
    assert caught.value.code == 2


def test_s3_objects_are_validated_like_local_files_with_the_s3_only_rules(nova_file, capsys):
    image = {"image": {"format": "png", "source": {"s3Location": {"uri": "s3://elsewhere/cat.png"}}}}
    media = {**record("conversation", 70), "messages": [
        {"role": "user", "content": [{"text": "What is it?"}, image]},
        {"role": "assistant", "content": [{"text": "A cat."}]},
    ]}
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="data")
        s3.put_object(Bucket="data", Key="train.jsonl", Body=nova_file.read_bytes() + json.dumps(media).encode() + b"\n")
        assert main(["validate", "--base-model", "nova-lite", "s3://data/train.jsonl"]) == 1
    out = capsys.readouterr().out
    assert "line 21: media-bucket:" in out and "line 21: media-missing:" in out
    assert "skipped" not in out


def test_the_command_starts_quickly_and_never_prints_a_traceback(tmp_path):
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"\x00\xff\xfe{]\n" * 3)
    result = subprocess.run(
        [sys.executable, "-m", "bedrock_customize.cli", "validate", "--base-model", "nova-lite", str(garbage)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout


def test_a_reader_that_goes_away_ends_the_command_quietly(monkeypatch, capsys):
    # Given standard output is a pipe whose reader has already closed (`... | head`)
    import os
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = open(write_end, "w")  # noqa: SIM115 - replaced and closed below
    with capsys.disabled():
        monkeypatch.setattr(sys, "stdout", stream)
        # When a command writes more than the reader took
        code = main(["schema"])
        monkeypatch.undo()
    stream.close()
    # Then it ends with exit 0 and no traceback
    assert code == 0
