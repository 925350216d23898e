"""The evaluation end to end: the held-out split, the Map path, the gate acting, the reports."""

from __future__ import annotations

import json

from infra import constants as c
from tests.datasets import write_dataset


def report_of(result) -> dict:
    return json.loads(result.objects["evaluation/report.json"])


def test_without_test_data_a_seeded_sample_is_held_out_of_training(runner):
    training = write_dataset(runner.tmp_path / "all.jsonl", "conversation", 100)
    result = runner.run("nova-lite", datasets={"training_data": training}, request={"evaluation": {"holdout_fraction": 0.1}})

    assert result.status == "SUCCEEDED", result.error
    split = report_of(result)["split"]
    assert split["source"] == "held-out" and split["test_records"] == 10 and split["training_records"] == 90
    submitted = result.simulator.resources[next(e["arn"] for e in result.simulator.ledger if e["type"] == "customization_job")]
    assert submitted.attributes["request"]["trainingDataConfig"]["s3Uri"] == split["training_uri"]
    kept = set(result.objects["data/training.jsonl"].splitlines())
    held = set(result.objects["data/held-out-test.jsonl"].splitlines())
    assert len(kept) == 90 and len(held) == 10 and not kept & held
    assert kept | held == set(training.read_bytes().splitlines())


def test_the_map_path_gives_the_same_results_as_the_single_step(runner):
    single = runner.run("nova-lite")
    sharded = runner.run("nova-lite", request={"evaluation": {"map_threshold": 2, "shard_size": 2}})
    assert c.SCORE_SAMPLES in single.states and c.SCORE_SHARDS not in single.states
    assert c.SCORE_SHARDS in sharded.states and c.SCORE_SAMPLES not in sharded.states
    assert sharded.handler_calls.count(c.SCORE_SAMPLES) == 3  # 5 samples in shards of 2
    one, other = report_of(single), report_of(sharded)
    for key in ("metrics", "delta", "ci95", "promoted", "samples_scored"):
        assert one[key] == other[key], key
    assert [s["index"] for s in one["samples"]] == [s["index"] for s in other["samples"]]


def test_a_rejected_model_is_torn_down_and_deleted_when_asked(runner):
    result = runner.run(
        "nova-lite",
        request={"evaluation": {"min_improvement": 0.9}, "teardown": {"delete_rejected_model": True}},
    )
    assert result.status == "SUCCEEDED"
    evaluation = result.output["evaluation"]
    assert evaluation["promoted"] is False and "less than the required +0.9000" in evaluation["why"]
    assert sorted(r["type"] for r in result.resources["deleted"]) == ["custom_model", "provisioned_throughput"]
    assert result.resources["retained"] == []


def test_a_promoted_model_is_kept_but_its_deployment_is_not(runner):
    result = runner.run("nova-lite", request={"teardown": {"delete_rejected_model": True}})
    assert result.output["evaluation"]["promoted"] is True
    assert [r["type"] for r in result.resources["retained"]] == ["custom_model"]
    assert result.resources["leaked"] == []


def test_the_reports_are_written_and_parseable_with_semantic_similarity_when_asked(runner):
    result = runner.run("nova-lite", request={"evaluation": {"semantic_similarity": True, "primary_metric": "chrf"}})
    report = report_of(result)
    assert report["primary_metric"] == "chrf" and "similarity" in report["metrics"]["custom"]
    assert set(report) >= {"metrics", "primary_metric", "delta", "ci95", "promoted", "training", "split", "cost"}
    assert report["training"]["available"] and report["training"]["final_training_loss"] > 0
    assert report["simulated"] is True
    html = result.objects["evaluation/report.html"].decode()
    assert "SIMULATED" in html and "largest regressions first" in html


def test_bedrocks_own_evaluation_job_runs_as_a_second_engine_while_the_deployment_exists(runner):
    result = runner.run("nova-lite", request={"evaluation": {"bedrock_evaluation_job": True}})
    assert result.status == "SUCCEEDED", result.error
    assert result.states.index(c.CHECK_EVALUATION_JOB) < result.states.index(c.REPORT_EVALUATION)
    second = report_of(result)["second_engine"]
    assert second["status"] == "Completed" and second["outputs"]
    # Its per-prompt scores, read from the guide's layout of its results, merged beside the pipeline's metrics.
    assert all("/models/" in key and key.endswith("_output.jsonl") for key in second["outputs"])
    metrics = {m["name"]: m for m in second["metrics"]}
    assert set(metrics) == {"Accuracy", "Robustness", "Toxicity"}
    accuracy = metrics["Accuracy"]
    assert accuracy["better"] == "higher" and accuracy["scale"].startswith("0 to 1") and accuracy["prompts"] == report_of(result)["samples_scored"]
    assert 0 <= accuracy["base"] <= 1 and 0 <= accuracy["custom"] <= 1
    assert abs(accuracy["delta"] - (accuracy["custom"] - accuracy["base"])) < 1e-3
    assert accuracy["ci95"][0] <= accuracy["delta"] <= accuracy["ci95"][1]
    assert metrics["Toxicity"]["better"] == "lower"
    assert "Bedrock Accuracy" in result.objects["evaluation/report.html"].decode()
    events = [(e["type"], e["event"]) for e in result.simulator.ledger]
    assert events.index(("evaluation_job", "created")) < events.index(("provisioned_throughput", "deleted"))
    assert result.resources["leaked"] == []


def test_an_aborted_run_stops_its_evaluation_job(runner):
    result = runner.run(
        "nova-lite", request={"evaluation": {"bedrock_evaluation_job": True}, "wait_seconds": {"job": 1}},
        abort_when=lambda states: c.WAIT_FOR_EVALUATION_JOB in states,
    )
    assert result.status == "ABORTED"
    assert {"type": "evaluation_job", "id": f"eval-{result.execution_name}"} in result.cleanup["cleanup"]["stopped"]
    assert result.resources["leaked"] == []
