"""Metrics on known pairs, the bootstrap interval, the verdict, training-curve flags, the
held-out split, the concurrent inference and the promotion gate."""

from __future__ import annotations

import json
import random
import threading
import time
from html.parser import HTMLParser
from typing import Any

import pytest

from customization.core.teardown import readable_failure
from customization.errors import AwsRequestRejectedError, ThrottlingError
from customization.evaluation.contracts import EvaluationReport, Sample
from customization.evaluation.curves import Curves, analyse, parse_metrics
from customization.evaluation.gate import promotion_decision
from customization.evaluation.inference import InferenceSettings, answer_samples
from customization.evaluation.metrics import active_metrics, score_answer
from customization.evaluation.page import render_report
from customization.evaluation.statistics import bootstrap_interval, mean_score, verdict
from customization.evaluation.test_set import choose_holdout, split_stream
from customization.models.resources import ModelReply
from tests.datasets import provisioned_unless_chosen

REFERENCE = "the cat sat on the mat"


def score_pair(prediction: str, reference: str) -> dict[str, float]:
    """Every text metric of one answer (all but those computed while answering)."""
    return score_answer(prediction, reference, active_metrics({}))


def test_metrics_on_known_pairs():
    same = score_pair(REFERENCE, REFERENCE)
    assert same == {"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0, "chrf": 1.0, "exact_match": 1.0}
    disjoint = score_pair("completely different words", REFERENCE)
    assert disjoint["rouge1"] == disjoint["rougeL"] == disjoint["exact_match"] == 0.0
    partial = score_pair("the cat sat", REFERENCE)
    # LCS 3 of 3 predicted and 6 reference tokens: P=1, R=0.5, F1=2/3; bigrams 2 of 2 and 5.
    assert partial["rougeL"] == pytest.approx(2 / 3, abs=1e-4)
    assert partial["rouge2"] == pytest.approx(2 * (1 * 0.4) / 1.4, abs=1e-4)
    assert 0 < partial["chrf"] < 1
    assert score_pair("  The Cat sat on the mat ", REFERENCE)["exact_match"] == 1.0
    assert score_pair("", REFERENCE)["chrf"] == 0.0


def test_the_bootstrap_interval_of_paired_differences():
    assert bootstrap_interval([0.0] * 20) == (0.0, 0.0)
    low, high = bootstrap_interval([0.2] * 10 + [0.3] * 10)
    assert 0.2 <= low < high <= 0.3
    low, high = bootstrap_interval([-0.5, 0.5] * 10)
    assert low < 0 < high
    assert bootstrap_interval([1.0, 2.0, 3.0], seed=1) == bootstrap_interval([1.0, 2.0, 3.0], seed=1)


def test_the_verdict_says_plainly_which_model_is_better():
    assert verdict(0.30, 0.55, 10).text.startswith("custom model is BETTER")
    assert verdict(0.55, 0.30, 10).text.startswith("custom model is WORSE")
    tie = verdict(0.500, 0.502, 10)
    assert not tie.custom_is_better and tie.text.startswith("custom model is NOT BETTER")
    assert mean_score([]) == 0.0


def test_a_lambda_error_becomes_a_readable_failure():
    failure = readable_failure(
        {"Error": "JobFailedError", "Cause": '{"errorType": "JobFailedError", "errorMessage": "job x failed: bad data"}'}
    )
    assert (failure.error, failure.cause) == ("JobFailedError", "job x failed: bad data")
    assert readable_failure({"Error": "States.Timeout", "Cause": "timed out"}).cause == "timed out"


def curve(losses_by_epoch: list[list[float]]) -> list[tuple[int, int, float]]:
    rows, step = [], 0
    for epoch, losses in enumerate(losses_by_epoch):
        for loss in losses:
            rows.append((step, epoch, loss))
            step += 1
    return rows


def analysed(curves: Curves, **limits: int) -> dict[str, Any]:
    return analyse(curves, **limits).model_dump()


def test_curve_flags_on_synthetic_curves():
    converged = analysed(Curves(curve([[2.0, 1.2], [0.9, 0.88], [0.87, 0.87]]), curve([[0.9], [0.85], [0.84]])), epochs=3, max_epochs=5)
    assert converged["flags"] == [] and converged["suggested_epochs"] == 3
    assert converged["final_training_loss"] == 0.87 and converged["best_validation_loss"] == 0.84

    diverged = analysed(Curves(curve([[1.0, 1.5], [3.0, float("nan")]])), epochs=2, max_epochs=5)
    assert diverged["flags"] == ["divergence"]

    overfit = analysed(Curves(curve([[2.0], [1.0], [0.5], [0.2]]), curve([[1.0], [0.7], [0.8], [0.95]])), epochs=4, max_epochs=10)
    assert overfit["flags"] == ["overfitting"] and overfit["suggested_epochs"] == 2

    under = analysed(Curves(curve([[3.0, 2.5], [2.0, 1.5]])), epochs=2, max_epochs=5)
    assert under["flags"] == ["under-training"] and under["suggested_epochs"] == 3

    assert analysed(Curves(), epochs=2, max_epochs=5)["available"] is False


def test_metrics_csv_parsing_skips_bad_rows():
    text = "step_number,epoch_number,training_loss,perplexity\n0,0,2.5,12.1\n1,0,oops,1\n2,1,1.5,4.4\n"
    assert parse_metrics(text, "training_loss") == [(0, 0, 2.5), (2, 1, 1.5)]


def test_the_held_out_split_never_overlaps_training():
    lines = [json.dumps({"prompt": f"p{i}", "completion": f"c{i}"}).encode() + b"\n" for i in range(200)]
    holdout = choose_holdout(200, fraction=0.1, max_samples=50, min_training=100, seed=3)
    held: list[bytes] = []
    kept = list(split_stream([*lines[:50], b"\n", *lines[50:]], holdout, held))
    assert len(held) == 20 and len(kept) == 180
    assert not set(held) & set(kept) and set(held) | set(kept) == set(lines)
    assert holdout == choose_holdout(200, fraction=0.1, max_samples=50, min_training=100, seed=3)
    assert choose_holdout(100, fraction=0.5, max_samples=50, min_training=100, seed=3) == set()  # keeps the minimum


class FakeRuntime:
    """A model endpoint: throttles a share of calls and fails chosen prompts for good."""
    region = "us-east-1"

    def __init__(self, throttle_share: float = 0.0, broken: set[str] = frozenset()) -> None:
        self.throttle_share, self.broken = throttle_share, broken
        self.rng, self.lock, self.calls = random.Random(1), threading.Lock(), 0

    def converse(self, *, model_id, system, messages, max_tokens, temperature):
        prompt = messages[-1]["content"][0]["text"]
        with self.lock:
            self.calls += 1
            throttled = self.rng.random() < self.throttle_share
        if prompt in self.broken and model_id == "custom":
            raise AwsRequestRejectedError("converse: ValidationException: input is too long")
        if throttled:
            raise ThrottlingError("converse: ThrottlingException: Rate exceeded")
        return ModelReply(text=f"{model_id}: {prompt}", input_tokens=5, output_tokens=3, latency_ms=1)


def samples(count: int) -> list[Sample]:
    return [Sample(index=i, system=[], messages=[{"role": "user", "content": [{"text": f"q{i}"}]}], reference=f"r{i}")
            for i in range(count)]


def as_dict(row) -> dict:
    return row.model_dump()


def test_throttled_calls_are_retried_and_no_sample_is_lost():
    runtime = FakeRuntime(throttle_share=0.2)
    rows = [as_dict(row) for row in answer_samples(
        samples(50), {"base": "base", "custom": "custom"}, runtime=runtime,
        settings=InferenceSettings(max_tokens=10, temperature=0), concurrency=8, backoff=lambda _: 0.0)]
    assert [row["index"] for row in rows] == list(range(50))
    assert all("text" in row["base"] and "text" in row["custom"] for row in rows)
    assert runtime.calls > 100  # the throttled ones were called again


def test_a_sample_that_still_fails_is_reported_not_dropped():
    rows = [as_dict(row) for row in answer_samples(
        samples(3), {"base": "base", "custom": "custom"}, runtime=FakeRuntime(broken={"q1"}),
        settings=InferenceSettings(max_tokens=10, temperature=0), concurrency=2, backoff=lambda _: 0.0)]
    assert len(rows) == 3 and rows[1]["custom"]["error"].startswith("AwsRequestRejectedError")
    assert "text" in rows[1]["base"]


class Run:
    class evaluation:  # noqa: N801 - the shape the gate reads
        primary_metric, min_improvement = "rougeL", 0.05


def test_the_gate_both_ways():
    promoted, why = promotion_decision(0.2, (0.1, 0.3), 10, Run.evaluation)
    assert promoted and why.startswith("rougeL improved by +0.2000")
    assert promotion_decision(0.03, (0.01, 0.05), 10, Run.evaluation) == (False, "rougeL changed by +0.0300 (95% interval +0.0100 to +0.0500), less than the required +0.0500")
    promoted, why = promotion_decision(0.2, (-0.1, 0.5), 10, Run.evaluation)
    assert not promoted and "includes zero" in why
    assert promotion_decision(0.0, (0.0, 0.0), 0, Run.evaluation) == (False, "no sample was answered by both models")


class Strict(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") or (value and value.startswith(("http://", "https://")) and name != "xmlns"):
                self.external.append(f"{tag} {name}={value}")


def test_the_html_report_is_self_contained_and_escapes_text():
    metrics = {"rougeL": 0.5, "chrf": 0.4}
    report = {
        "execution": "run-1", "base_model": "m", "base_model_invocation_id": "m", "custom_model": None,
        "min_improvement": 0.0, "second_engine": None, "simulated": True, "simulated_note": "simulated",
        "promoted": False, "why": "x < y", "verdict": "custom model is WORSE", "primary_metric": "rougeL",
        "metrics": {"base": metrics, "custom": metrics}, "delta": {"rougeL": 0.0, "chrf": 0.0},
        "ci95": {"rougeL": [0, 0], "chrf": [0, 0]}, "samples_scored": 1, "samples_failed": [{"index": 2, "custom": "boom"}],
        "training": {"available": True, "training_curve": [[0, 2.0], [1, 1.0]], "validation_curve": [[1, 1.2]],
                     "final_training_loss": 1.0, "best_training_loss": 1.0, "final_validation_loss": 1.2,
                     "best_validation_loss": 1.2, "flags": [], "suggested_epochs": 2, "notes": ["ok"]},
        "split": {"source": "held-out", "test_records": 1, "seed": 4},
        "cost": {"estimate": _estimate().model_dump(mode="json"), "estimated_total_usd": 1.0, "budget_usd": 5.0,
                 "measured": {"deployment": "provisioned_throughput", "base_input_tokens": 3, "base_output_tokens": 4,
                              "custom_input_tokens": 3, "custom_output_tokens": 5, "inference_usd": 0.0001,
                              "deployment_hours": 0.5, "deployment_usd": 108.15}},
        "samples": [{"index": 0, "delta": -0.1, "reference": "<script>alert(1)</script>", "base": "a", "custom": "b",
                     "scores": {"base": metrics, "custom": metrics}, "latency_ms": {"base": 1, "custom": 1},
                     "output_tokens": {"base": 4, "custom": 5}}],
    }
    html = render_report(EvaluationReport.model_validate(report))
    parser = Strict()
    parser.feed(html)
    assert parser.external == []
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "SIMULATED" in html and "NOT PROMOTED" in html and "<polyline" in html
    assert "against a budget of $5.00" in html and "provisioned throughput" in html
    assert "had existed 0.50 h when this report was written ($108.15 billed" in html


def _estimate() -> Any:
    from customization.core.costs import Workload, estimate_cost
    from customization.models.request import CustomizationRequest
    from customization.registry import load_registry

    request = CustomizationRequest.model_validate(
        provisioned_unless_chosen({"base_model": "nova-lite", "training_data": "s3://bucket/t.jsonl"}))
    registry = load_registry()
    return estimate_cost(request, registry.resolve("nova-lite"), registry, Workload(1000, 2, 50.0), epochs=2)


class OneAtATime:
    """An endpoint that serves one call at a time and throttles q0's first attempt."""

    def __init__(self) -> None:
        self.lock, self.in_flight, self.most, self.answered = threading.Lock(), 0, 0, []

    def converse(self, *, model_id, system, messages, max_tokens, temperature):
        prompt = messages[-1]["content"][0]["text"]
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            first_try = prompt == "q0" and model_id == "base" and "retried" not in self.answered
            if first_try:
                self.answered.append("retried")
        try:
            if first_try:
                raise ThrottlingError("converse: ThrottlingException: Rate exceeded")
            time.sleep(0.01)
            with self.lock:
                self.answered.append(f"{prompt} {model_id}")
            return ModelReply(text="a", input_tokens=1, output_tokens=1, latency_ms=1)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_a_throttled_call_waits_its_back_off_out_of_the_way_and_concurrency_is_never_exceeded():
    endpoint = OneAtATime()
    rows = answer_samples(samples(4), {"base": "base", "custom": "custom"}, runtime=endpoint,
                          settings=InferenceSettings(max_tokens=10, temperature=0), concurrency=1, backoff=lambda _: 0.1)
    assert endpoint.most == 1  # never more calls in flight than allowed
    assert all(row.paired for row in rows) and rows[0].base.attempts == 2
    # The other seven calls went on while q0's back-off ran: its retry came last.
    assert endpoint.answered[0] == "retried" and endpoint.answered[-1] == "q0 base"
