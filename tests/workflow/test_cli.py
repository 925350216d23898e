"""`bedrock-customize run-local`, as `make run` calls it."""

from __future__ import annotations

import json

from bedrock_customize.cli import EXIT_OK, EXIT_USAGE, main


def test_run_local_runs_the_bundled_example_and_writes_the_summary(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run-local", "--out", str(out)])

    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert code == EXIT_OK and summary["status"] == "SUCCEEDED"
    assert set(summary) >= {"status", "execution_name", "base_model", "states", "error", "resources", "report"}
    assert summary["states"][:2] == ["Raw Data?", "Validate Request"] and summary["states"][-1] == "Run Succeeded"
    assert "-> Validate Request" in printed and "SIMULATED bedrock:" in printed
    assert printed.rstrip().endswith(f"summary: {(out / 'summary.json').resolve()}")
    # It does not choose deployment.mode: Nova Lite's cheapest for the evaluation, on demand, is used and said.
    created = [r for r in summary["resources"]["created"] if r["type"] == "custom_model_deployment"]
    assert created and created == [r for r in summary["resources"]["deleted"] if r["type"] == "custom_model_deployment"]
    assert not [r for r in summary["resources"]["created"] if r["type"] == "provisioned_throughput"]
    assert summary["resources"]["leaked"] == []
    assert any(a.startswith("deployment.mode was not given: on_demand") for a in summary["cost_estimate"]["assumptions"])
    assert "deployment.mode was not given: on_demand, the cheapest Amazon Nova Lite offers for the evaluation" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["promoted"] is True and report["simulated"] is True
    assert summary["report"] == str(out / "report.html") and summary["report_json"] == str(out / "report.json")
    html = (out / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "SIMULATED" in html and "<svg" in html
    # The bundled request sets a budget; the estimate behind it is printed and kept.
    total = summary["cost_estimate"]["total_usd"]
    assert 0 < total <= 5 and f"cost estimate in AWS (list prices, made before the run): ${total:,.2f}, budget $150.00" in printed


def test_run_local_exits_1_when_the_run_fails(tmp_path, local_template, capsys):
    request = tmp_path / "bad.json"
    request.write_text(json.dumps({"base_model": "nova-lite", "training_data": "train.jsonl", "deployment": {"model_units": 0}}))
    (tmp_path / "train.jsonl").write_text("{}\n")
    code = main(["run-local", "--request", str(request), "--out", str(tmp_path / "out"), "--template", str(local_template)])
    assert code == 1
    out = capsys.readouterr().out
    assert f"using the synthesized template {local_template}" in out and "synthesizing" not in out
    assert "RequestInvalidError: invalid request: deployment.model_units" in out


def test_run_local_exits_2_for_a_missing_request_or_dataset(tmp_path, capsys):
    assert main(["run-local", "--request", str(tmp_path / "nope.json")]) == EXIT_USAGE
    request = tmp_path / "r.json"
    request.write_text(json.dumps({"base_model": "nova-lite", "training_data": "missing.jsonl"}))
    assert main(["run-local", "--request", str(request)]) == EXIT_USAGE
    assert "training_data: local file" in capsys.readouterr().err
    assert main(["run-local", "--template", str(tmp_path / "none.template.json")]) == EXIT_USAGE
    assert "none.template.json: no such file" in capsys.readouterr().err
