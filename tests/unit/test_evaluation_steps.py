"""The evaluation's steps with in-memory fakes: Plan Evaluation shards the test records,
Score Samples answers them with both models, Report Evaluation scores, decides and publishes,
and the second engine starts and follows Bedrock's own job."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from customization.errors import AwsRequestRejectedError, EvaluationFailedError
from customization.evaluation.contracts import EvaluationReport
from customization.evaluation.metrics import METRICS
from customization.evaluation.plan import plan_evaluation
from customization.evaluation.report import report_evaluation
from customization.evaluation.score import score_shards
from customization.evaluation.second_engine import check_evaluation_job, start_evaluation_job
from customization.models.steps import DeploymentState
from customization.vocabulary import REPORT_HTML, REPORT_JSON, ResourceKind
from tests.datasets import record
from tests.fakes import FakeBedrock, FakeLedger, FakeRuntime, FakeStore
from tests.runs import run_context

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CUSTOM = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt"


def store_with_test_set(run, count: int, data_format: str = "conversation") -> FakeStore:
    lines = [json.dumps(record(data_format, i)) for i in range(count)]
    return FakeStore({run.test_data: ("\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:]) + "\n").encode()})


def deployment() -> DeploymentState:
    return DeploymentState(kind=ResourceKind.PROVISIONED_THROUGHPUT, arn=CUSTOM, name="pt", status="InService", ready=True,
                           created_at=NOW - timedelta(minutes=90))


def reference(data_format: str, index: int) -> str:
    rec = record(data_format, index)
    return rec["messages"][-1]["content"][0]["text"]


def test_plan_reads_samples_through_the_format_and_shards_above_the_threshold():
    run = run_context(evaluation={"map_threshold": 3, "shard_size": 2, "max_samples": 5})
    store = store_with_test_set(run, 7)
    plan = plan_evaluation(run, store=store)
    assert plan.sharded and plan.samples == 5 and [s.count for s in plan.shards] == [2, 2, 1]
    first = json.loads(store.read_text(plan.shards[0].uri).splitlines()[0])
    assert first["index"] == 0 and first["messages"][-1]["role"] == "user"
    assert first["reference"] == reference("conversation", 0)
    single = plan_evaluation(run_context(), store=store)
    assert not single.sharded and len(single.shards) == 1


def test_plan_refuses_a_test_set_with_no_usable_record():
    run = run_context()
    with pytest.raises(EvaluationFailedError, match="holds no record usable as an evaluation sample"):
        plan_evaluation(run, store=FakeStore({run.test_data: b'{"schemaVersion": "x"}\n'}))


def evaluate(run, store: FakeStore, runtime: FakeRuntime) -> tuple[object, EvaluationReport]:
    plan = plan_evaluation(run, store=store)
    scored = score_shards(run, deployment(), plan.shards, runtime=runtime, store=store)
    assert scored.samples == plan.samples
    summary = report_evaluation(run, deployment(), None, store=store, now=NOW, simulated=False)
    return summary, EvaluationReport.model_validate(store.json(run.uri(REPORT_JSON)))


def test_a_custom_model_that_answers_the_references_is_promoted():
    # Given a custom model that answers every reference exactly, and a base model that echoes the prompt
    run = run_context(evaluation={"max_samples": 12})
    store = store_with_test_set(run, 12)
    answers = {CUSTOM: {record("conversation", i)["messages"][0]["content"][0]["text"]: reference("conversation", i) for i in range(12)}}
    # When both answer and the report is made
    summary, report = evaluate(run, store, FakeRuntime(answers))
    # Then every metric favours the custom model, its interval is above zero, and the gate promotes it
    assert summary.promoted and summary.custom_is_better and report.metrics["custom"]["exact_match"] == 1.0
    assert report.metrics["base"]["exact_match"] == 0.0 and report.ci95["rougeL"][0] > 0
    assert list(report.metrics["custom"]) == [m for m in METRICS if METRICS[m].needs is None]
    assert report.samples_scored == 12 and report.samples_failed == []
    assert report.cost.measured.deployment_hours == 1.5 and report.cost.measured.deployment_usd is not None
    assert "<!DOCTYPE html>" in store.read_text(run.uri(REPORT_HTML))


def test_identical_models_are_not_promoted_and_a_failed_answer_is_listed_not_dropped():
    run = run_context(evaluation={"max_samples": 4})
    store = store_with_test_set(run, 4)
    prompt = record("conversation", 2)["messages"][0]["content"][0]["text"]
    runtime = FakeRuntime({CUSTOM: {prompt: AwsRequestRejectedError("converse: ValidationException: too long")}})
    summary, report = evaluate(run, store, runtime)
    assert not summary.promoted and summary.why == "rougeL changed by +0.0000, but its 95% interval +0.0000 to +0.0000 includes zero: the gain is not established"
    assert summary.failed == 1 and report.samples_scored == 3
    (failed,) = report.samples_failed
    assert failed.index == 2 and failed.custom.startswith("AwsRequestRejectedError") and failed.base is None


def test_similarity_is_a_metric_only_when_asked_and_read_from_the_answers():
    run = run_context(evaluation={"max_samples": 3, "semantic_similarity": True, "primary_metric": "similarity"})
    store = store_with_test_set(run, 3)
    _, report = evaluate(run, store, FakeRuntime())
    assert report.primary_metric == "similarity" and 0 < report.metrics["base"]["similarity"] <= 1
    line = store.read_text(store.list_keys(run.uri("evaluation/results/"))[0]).splitlines()[0]
    assert "similarity" in json.loads(line)["custom"]


def test_the_second_engine_runs_only_when_asked_and_is_followed_to_its_end():
    bedrock, ledger = FakeBedrock(), FakeLedger()
    off = start_evaluation_job(run_context(), deployment(), role_arn="r", bedrock=bedrock, ledger=ledger, store=FakeStore())
    assert off.done and not off.requested and bedrock.calls == []

    run = run_context(evaluation={"bedrock_evaluation_job": True})
    store = store_with_test_set(run, 3)
    plan_evaluation(run, store=store)
    job = start_evaluation_job(run, deployment(), role_arn="r", bedrock=bedrock, ledger=ledger, store=store)
    assert bedrock.calls == [("create_evaluation_job", run.names.evaluation_job_name, (run.base_model_invocation_id, CUSTOM))]
    prompts = [json.loads(line) for line in store.read_text(run.uri("evaluation/bedrock-evaluation/dataset.jsonl")).splitlines()]
    assert len(prompts) == 3 and prompts[0]["referenceResponse"] == reference("conversation", 0)
    assert not check_evaluation_job(run, job, bedrock=bedrock, ledger=ledger).done
    bedrock.set(job.arn, status="Completed")
    assert check_evaluation_job(run, job, bedrock=bedrock, ledger=ledger).done
    assert ledger.status(run.execution_name, ResourceKind.EVALUATION_JOB, job.name) == "finished"


def test_a_distilled_student_is_scored_beside_its_teacher_with_the_share_of_its_price():
    # Given a distillation run whose teacher answers every reference, and a student that answers half of them
    run = run_context(base_model="nova-micro", customization_type="DISTILLATION", distillation={"teacher": "nova-pro"},
                      evaluation={"max_samples": 8, "primary_metric": "exact_match"})
    run = run.model_copy(update={"teacher_invocation_id": "amazon.nova-pro-v1:0", "data_format": "conversation"})
    store = store_with_test_set(run, 8)
    prompts = [record("conversation", i)["messages"][0]["content"][0]["text"] for i in range(8)]
    runtime = FakeRuntime({
        "amazon.nova-pro-v1:0": {p: reference("conversation", i) for i, p in enumerate(prompts)},
        CUSTOM: {p: reference("conversation", i) for i, p in enumerate(prompts) if i % 2 == 0},
    })
    # When the three models answer and the report is made
    summary, report = evaluate(run, store, runtime)
    # Then the teacher was asked every sample, and the student kept half of its exact matches at Micro's share of its price
    assert sum(1 for model, _ in runtime.calls if model == "amazon.nova-pro-v1:0") == 8
    teacher = report.teacher
    assert teacher.samples == 8 and teacher.teacher_metrics["exact_match"] == 1.0 and teacher.student_metrics["exact_match"] == 0.5
    assert teacher.kept == 0.5
    assert teacher.price_share["output"] == round(0.00014 / 0.0032, 4)  # Nova Micro's output rate / Nova Pro's
    assert summary.teacher.startswith("the distilled student reached 50% of Amazon Nova Pro's exact_match (0.5000 vs 1.0000)")
    assert report.cost.measured.teacher_output_tokens == sum(len(reference("conversation", i).split()) for i in range(8))
    assert "Student and teacher" in store.read_text(run.uri(REPORT_HTML))
    # A run without a teacher asks none and reports none.
    plain = run_context(evaluation={"max_samples": 2})
    _, plain_report = evaluate(plain, store_with_test_set(plain, 2), FakeRuntime())
    assert plain_report.teacher is None


class JudgingRuntime(FakeRuntime):
    """The judge gives 9 to an answer that is the reference, 2 to any other; the models answer
    as FakeRuntime says."""

    def __init__(self, answers, judge_id: str) -> None:
        super().__init__(answers)
        self.judge_id = judge_id

    def converse(self, *, model_id, system, messages, max_tokens, temperature):
        if model_id != self.judge_id:
            return super().converse(model_id=model_id, system=system, messages=messages, max_tokens=max_tokens,
                                    temperature=temperature)
        from customization.models.resources import ModelReply

        prompt = messages[-1]["content"][0]["text"]
        reference = prompt.split("Reference answer:\n", 1)[1].split("\n\nAnswer to grade:", 1)[0]
        answer = prompt.split("Answer to grade:\n", 1)[1].split("\n\nReply with", 1)[0]
        self.calls.append((model_id, "judge"))
        return ModelReply(text="SCORE: 9" if answer == reference else "SCORE: 2", input_tokens=1, output_tokens=1, latency_ms=1)


def test_an_llm_judge_scores_both_models_with_the_paired_interval():
    from customization.registry import load_registry

    judge = {"model": "nova-pro", "rubric": "A one-sentence summary naming the town and the cost."}
    run = run_context(evaluation={"max_samples": 8, "judge": judge, "primary_metric": "judge"})
    store = store_with_test_set(run, 8)
    answers = {CUSTOM: {record("conversation", i)["messages"][0]["content"][0]["text"]: reference("conversation", i) for i in range(8)}}
    runtime = JudgingRuntime(answers, load_registry().judge("nova-pro").invocation_id)
    summary, report = evaluate(run, store, runtime)
    assert report.metrics["custom"]["judge"] == 0.9 and report.metrics["base"]["judge"] == 0.2
    assert report.primary_metric == "judge" and summary.promoted and tuple(report.ci95["judge"]) == (0.7, 0.7)
    assert len([call for call in runtime.calls if call[1] == "judge"]) == 16  # both models' 8 answers


def test_the_judge_is_one_of_the_registrys_and_its_metric_needs_it():
    from customization.core.request_rules import parse_request
    from customization.errors import RequestInvalidError

    base = {"base_model": "nova-lite", "training_data": "s3://bucket/t.jsonl"}
    with pytest.raises(RequestInvalidError, match="evaluation.judge.model: unknown judge model 'gpt-5'"):
        parse_request({**base, "evaluation": {"judge": {"model": "gpt-5", "rubric": "Short and right."}}}, bucket=None)
    with pytest.raises(RequestInvalidError, match="judge is only measured with evaluation.judge set"):
        parse_request({**base, "evaluation": {"primary_metric": "judge"}}, bucket=None)


def test_bedrocks_evaluation_job_scores_are_paired_by_prompt_with_their_names_and_scales():
    import json as json_

    from customization.evaluation.second_engine import job_metrics
    from tests.fakes import FakeStore

    def line(prompt: str, model: str, **scores: float) -> str:
        return json_.dumps({"automatedEvaluationResult": {"scores": [{"metricName": k, "result": v} for k, v in scores.items()]},
                            "inputRecord": {"prompt": prompt}, "modelResponses": [{"response": "r", "modelIdentifier": model}]})

    out = "s3://bucket/run/output/"
    store = FakeStore({
        f"{out}job/1/models/base/taskTypes/Summarization/datasets/d/a_output.jsonl":
            "\n".join([line("p1", "base", Accuracy=0.2, Fluency=3.0), line("p2", "base", Accuracy=0.4), line("p3", "base", Accuracy=0.9)]).encode(),
        f"{out}job/1/models/custom/taskTypes/Summarization/datasets/d/b_output.jsonl":
            "\n".join([line("p1", "custom", Accuracy=0.6, Fluency=4.0), line("p2", "custom", Accuracy=0.6)]).encode(),
        f"{out}job/1/custom_metrics/definition.json": b"{}",
    })
    metrics = {m.name: m for m in job_metrics(out, base_model="base", custom_model="custom", store=store)}
    accuracy = metrics["Accuracy"]
    assert accuracy.prompts == 2 and (accuracy.base, accuracy.custom, accuracy.delta) == (0.3, 0.6, 0.3)  # p3: base only
    assert accuracy.better == "higher" and accuracy.scale.startswith("0 to 1")
    assert metrics["Fluency"].better is None and metrics["Fluency"].scale == "as Bedrock reports it"


def _with_media(run, blocks: list[dict]) -> FakeStore:
    line = {"schemaVersion": "bedrock-conversation-2024", "messages": [
        {"role": "user", "content": [*blocks, {"text": "What is shown?"}]},
        {"role": "assistant", "content": [{"text": "A red square."}]}]}
    return FakeStore({run.test_data: (json.dumps(line) + "\n").encode(), "s3://bucket/media/red.png": b"\x89PNG red"})


IMAGE = {"image": {"format": "png", "source": {"s3Location": {"uri": "s3://bucket/media/red.png"}}}}


@pytest.mark.parametrize(("base_model", "sent"), [("nova-lite", "s3"), ("llama3.2-11b", "bytes")])
def test_a_test_image_is_sent_as_the_models_converse_api_takes_it(base_model, sent):
    run = run_context(base_model=base_model)
    store = _with_media(run, [IMAGE])
    runtime = RecordingRuntime()
    plan = plan_evaluation(run, store=store)
    score_shards(run, deployment(), plan.shards, runtime=runtime, store=store)
    sources = [block["image"]["source"] for messages in runtime.messages for m in messages for block in m["content"] if "image" in block]
    assert len(sources) == 2  # both models
    assert all(("s3Location" in s) == (sent == "s3") and (s.get("bytes") == b"\x89PNG red") == (sent == "bytes") for s in sources)
    summary = report_evaluation(run, deployment(), None, store=store, now=NOW, simulated=False)
    report = EvaluationReport.model_validate(store.json(run.uri(REPORT_JSON)))
    assert report.samples[0].media == ["s3://bucket/media/red.png"] and summary.samples == 1
    assert "<img src='data:image/png;base64," in store.read_text(run.uri(REPORT_HTML))


def test_a_video_for_a_model_that_reads_no_s3_fails_the_evaluation_by_name():
    run = run_context(base_model="llama3.2-11b")
    store = _with_media(run, [{"video": {"format": "mp4", "source": {"s3Location": {"uri": "s3://bucket/media/clip.mp4"}}}}])
    plan = plan_evaluation(run, store=store)
    with pytest.raises(EvaluationFailedError, match="takes no video"):
        score_shards(run, deployment(), plan.shards, runtime=RecordingRuntime(), store=store)


class RecordingRuntime(FakeRuntime):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[list[dict]] = []

    def converse(self, *, model_id, system, messages, max_tokens, temperature):
        self.messages.append(messages)
        return super().converse(model_id=model_id, system=system, messages=messages, max_tokens=max_tokens, temperature=temperature)
