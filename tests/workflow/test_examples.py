"""The examples: each seed model's request runs offline to SUCCEEDED with nothing left
running, and its dataset is what `prepare` makes of the raw data today."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from bedrock_customize.cli import EXIT_OK, main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Each example: its request, and the `prepare` arguments that made its data from examples/raw/.
PREPARED = {
    "claude-3-haiku-dialogue-summary": (
        "claude-3-haiku", "raw/dialogues.csv --base-model haiku --map prompt=dialogue --map completion=summary "
        "--system 'Summarize the dialogue in one sentence.' --validation-fraction 0.1 --test-fraction 0.15",
    ),
    "nova-lite-news-summary": (
        "nova-lite", "raw/news.jsonl --base-model nova-lite --map prompt=article --map completion=highlights "
        "--system 'Summarize the news item in one sentence.' --validation-fraction 0.1 --test-fraction 0.15",
    ),
    "llama3.2-11b-vision-shapes": (
        "llama3.2-11b-vision", "raw/shapes.jsonl --base-model llama3.2-11b "
        "--system 'Answer questions about the picture in one short sentence.' --validation-fraction 0.1 --test-fraction 0.1",
    ),
    "nova-micro-distilled-from-nova-pro": (
        "nova-micro-distilled", "raw/support.jsonl --base-model nova-micro --customization-type DISTILLATION --test-fraction 0.1",
    ),
    "nova-2-lite-rft-invoice-totals": (
        "nova-2-lite-rft-invoices", "raw/invoices.jsonl --base-model nova-2-lite --customization-type REINFORCEMENT_FINE_TUNING "
        "--map prompt=email --map completion=total --system 'Read the billing e-mail and answer with the total due.' "
        "--test-fraction 0.1",
    ),
    "titan-text-express-continued-pretraining": (
        "titan-text-express-cpt", "raw/docs --base-model titan-text-express --customization-type CONTINUED_PRE_TRAINING "
        "--test-fraction 0.15",
    ),
}


@pytest.mark.parametrize("request_name", [*PREPARED, "nova-micro-prepared-in-the-pipeline",
                                          "nova-micro-distilled-from-invocation-logs", "nova-lite-learning-rate-sweep",
                                          "nova-lite-two-stage-fine-tuning"])
def test_each_example_runs_offline_to_success(request_name, local_template, tmp_path, capsys):
    out = tmp_path / "run"  # on the session's synthesized app (the bundled example's test synthesizes its own)
    code = main(["run-local", "--request", str(EXAMPLES / "requests" / f"{request_name}.json"), "--out", str(out),
                 "--template", str(local_template)])
    summary = json.loads((out / "summary.json").read_text())
    assert code == EXIT_OK and summary["status"] == "SUCCEEDED", summary["error"]
    assert summary["resources"]["leaked"] == []
    if request_name.endswith("sweep"):  # three candidates, two at a time (the simulated job quota), the winner chosen
        assert [c["status"] for c in summary["candidates"]] == ["Completed"] * 3 and summary["peak_jobs_in_progress"] == 2
        assert summary["selected"]["index"] == 2 and summary["evaluation"]["promoted"]
    if request_name.endswith("two-stage-fine-tuning"):  # both stages evaluated; the second is the run's model
        assert [s["custom_model"] for s in summary["stages"]] == ["kept", "chosen"]
        assert all(s["metric"] is not None for s in summary["stages"]) and summary["selected"]["index"] == 2
    if request_name.endswith("in-the-pipeline"):  # its raw CSV was uploaded and prepared by the state machine
        assert summary["states"][:3] == ["Raw Data?", "Prepare Dataset", "Validate Request"]
    if request_name.endswith("invocation-logs"):  # the logs went up as a folder; the filter and the teacher chose 130
        out = capsys.readouterr().out
        assert "distilling from 130 of 170 logged requests (the metadata filters) with their logged responses" in out
        (logs,) = [d for d in json.loads((tmp_path / "run" / "validation-report.json").read_text())["datasets"]
                   if d["role"] == "training"]
        assert logs["records"] == 130 and logs["source"].endswith("/invocation_logs.source/invocation-logs/")
        assert "teacher input" not in [line["item"] for line in summary["cost_estimate"]["lines"]]
    elif "distilled" in request_name:  # Bedrock (simulated) was asked for the teacher, which answered the prompts
        out = capsys.readouterr().out
        assert "teacher amazon.nova-pro-v1:0 answered 131 prompts (at most 200 tokens each)" in out
        assert "teacher (SIMULATED): the distilled student reached " in out and "of Amazon Nova Pro's rougeL" in out
        assert [line["item"] for line in summary["cost_estimate"]["lines"]][:3] == ["teacher input", "teacher output", "training"]
    if "rft" in request_name:  # the grader was tried, scored the job's answers and both models' (SIMULATED)
        out = capsys.readouterr().out
        assert "the grader scored 240 answers in 6 styles; the policy keeps 6-word answers" in out
        assert "custom model is BETTER than the base model: reward 1.0000 vs 0.0000" in out
        report = json.loads((out_dir := tmp_path / "run" / "report.json").read_text())
        assert report["primary_metric"] == "reward" and report["training"]["final_reward"] > report["training"]["first_reward"]
        trial = json.loads((out_dir.parent / "validation-report.json").read_text())["grader_trial"]
        assert trial["kind"] == "numeric" and set(trial["scores"].values()) == {1.0}
        assert summary["cost_estimate"]["unknown_prices"] == ["reinforcement_training_per_1k_tokens"]
    if "vision" in request_name:  # its images went up beside the dataset, and Validate Request read them in S3
        assert "train.jsonl with the 20 media files it names (emulated S3)" in capsys.readouterr().out
        report = json.loads((out / "validation-report.json").read_text())
        assert all(dataset["skipped"] == [] for dataset in report["datasets"]), report["datasets"]


@pytest.mark.parametrize("request_name", PREPARED)
def test_each_example_dataset_is_what_prepare_makes_of_the_raw_data(request_name, tmp_path, monkeypatch, capsys):
    folder, arguments = PREPARED[request_name]
    monkeypatch.chdir(EXAMPLES)
    assert main(["prepare", *shlex.split(arguments), "--out", str(tmp_path)]) == EXIT_OK
    committed = EXAMPLES / "prepared" / folder
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl"):
        assert (tmp_path / name).exists() == (committed / name).exists(), name
        if (committed / name).exists():
            assert (tmp_path / name).read_text() == (committed / name).read_text(), f"{folder}/{name}: run the prepare step again"
    images = sorted(p.name for p in (committed / "media").glob("*")) if (committed / "media").exists() else []
    assert images == sorted(p.name for p in (tmp_path / "media").glob("*")), f"{folder}/media: run the prepare step again"
    for image in images:
        assert (tmp_path / "media" / image).read_bytes() == (committed / "media" / image).read_bytes(), image
