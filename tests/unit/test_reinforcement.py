"""Reinforcement fine-tuning without AWS: the data format's rules by line, each built-in reward,
the reward-function contract, the grader's trial and the job's data in Validate Request and
Submit Job, the request's rules, the typed hyperparameters and the estimate."""

from __future__ import annotations

import json
from typing import Any

import pytest

from customization.core.costs import Workload, enforce_budget, estimate_cost
from customization.core.graders import check_references, grader_function, job_data, try_grader
from customization.core.hyperparameters import HyperparameterError, resolve_hyperparameters, typed_values
from customization.core.jobs import submit_job
from customization.core.request_rules import parse_request
from customization.errors import BudgetExceededError, DatasetInvalidError, GraderFailedError, RequestInvalidError
from customization.evaluation.score import score_shards
from customization.grading.built_in import grade_batch
from customization.grading.rewards import SETTINGS, reference_problem, reward
from customization.models.grading import GRADER_FIELD, read_scores
from customization.models.resources import ModelReply
from customization.models.steps import DeploymentState
from customization.registry import load_registry
from customization.settings import Settings
from tests.datasets import record
from tests.fakes import FakeBedrock, FakeLedger, FakeRuntime, FakeStore
from tests.runs import BUCKET, GRADER, run_context
from tests.unit.test_validation import found, run

RFT = "REINFORCEMENT_FINE_TUNING"
REGISTRY = load_registry()


def prompt(text: str = "What is the total due? Hello, the total due is 12.50 dollars.", reference: Any = "12.50", **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], "reference_answer": reference, **extra}


# -- the data format ----------------------------------------------------------------------


@pytest.mark.parametrize(("bad", "rule"), [
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "role"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "system", "content": "late"}, {"role": "user", "content": "y"}]},
     "turn-order"),
    ({"messages": [{"role": "user", "content": "  "}]}, "content"),
    ({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}, "turn-order"),
    ({"reference_answer": None}, "reference-answer"),
    ({"reference_answer": ""}, "reference-answer"),
])
def test_each_rule_of_the_reinforcement_format_names_the_line(bad, rule):
    records = [record("rft_chat", i) for i in range(100)]
    records[6] = {**records[6], **bad}
    report = run("nova-2-lite", records, customization_type=RFT)
    assert found(report) == {(7, rule)}, report.errors


def test_fewer_than_the_minimum_of_prompts_is_refused():
    report = run("nova-2-lite", [record("rft_chat", i) for i in range(99)], customization_type=RFT)
    assert not report.valid and "at least 100" in report.describe()


# -- the built-in rewards -----------------------------------------------------------------


@pytest.mark.parametrize(("grader", "answer", "reference", "score"), [
    ({"kind": "exact_match"}, "  Paris. ", "paris", 1.0),
    ({"kind": "exact_match"}, "It is Paris", "Paris", 0.0),
    ({"kind": "numeric"}, "The total is 1,271.79 dollars", "1271.79", 1.0),
    ({"kind": "numeric"}, "Order 9320: 1271.70", 1271.79, 0.0),
    ({"kind": "numeric", "tolerance": 0.1}, "about 1271.70", "1271.79", 1.0),
    ({"kind": "numeric", "relative_tolerance": 0.01}, "99", 100, 1.0),
    ({"kind": "numeric"}, "no number here", "3", 0.0),
    ({"kind": "json_field", "field": "order.status"}, 'Sure: {"order": {"status": "Shipped"}}', {"order": {"status": "shipped"}}, 1.0),
    ({"kind": "json_field", "field": "order.status"}, '{"order": {}}', {"order": {"status": "shipped"}}, 0.0),
    ({"kind": "regex", "pattern": r"ANSWER:\s*(?P<answer>\w+)"}, "so ANSWER: Yes", "yes", 1.0),
    ({"kind": "regex", "pattern": r"ANSWER:\s*(?P<answer>\w+)"}, "ANSWER: no", "yes", 0.0),
    ({"kind": "regex", "pattern": r"^\d{4}-\d{2}$"}, "2026-12", "anything", 1.0),
    ({"kind": "rouge_l"}, "the council approved a library", "the council approved a library", 1.0),
])
def test_each_built_in_reward(grader, answer, reference, score):
    assert reward(SETTINGS.validate_python(grader), answer, reference) == pytest.approx(score)


def test_the_llm_judge_asks_with_the_rubric_and_reads_its_score():
    asked = []

    def judge(system: str, user: str) -> str:
        asked.append(user)
        return "SCORE: 7" if "polite" in user else "I think it is fine"

    settings = SETTINGS.validate_python({"kind": "llm_judge", "judge": "nova-pro", "rubric": "A polite and correct reply."})
    assert reward(settings, "Thanks, done.", "Done.", judge=judge) == pytest.approx(0.7)
    assert "Reference answer:\nDone." in asked[0] and "Answer to grade:\nThanks, done." in asked[0]
    other = SETTINGS.validate_python({"kind": "llm_judge", "judge": "nova-pro", "rubric": "Any reply at all, judged."})
    assert reward(other, "x", "y", judge=judge) == 0.0  # no SCORE line: no reward, never an error


@pytest.mark.parametrize(("grader", "reference", "problem"), [
    ({"kind": "numeric"}, "about twelve", "is not a number"),
    ({"kind": "numeric"}, True, "is not a number"),
    ({"kind": "json_field", "field": "total"}, {"sum": 3}, "has no field 'total'"),
    ({"kind": "regex", "pattern": "(?P<answer>x)"}, {"a": 1}, "string or number"),
])
def test_a_reference_the_grader_cannot_compare_with_is_named(grader, reference, problem):
    assert problem in reference_problem(SETTINGS.validate_python(grader), reference)


# -- the contract -------------------------------------------------------------------------


SENT = [{"id": "a"}, {"id": "b"}]


@pytest.mark.parametrize(("answer", "message"), [
    ({"errorType": "KeyError", "errorMessage": "'reference_answer'"}, "failed: KeyError: 'reference_answer'"),
    ({"id": "a", "aggregate_reward_score": 1}, "answered dict, not a list"),
    ([{"aggregate_reward_score": 1}], "has no id"),
    ([{"id": "c", "aggregate_reward_score": 1}], "names id 'c', which was not sent"),
    ([{"id": "a", "aggregate_reward_score": 1.5}, {"id": "b", "aggregate_reward_score": 0}], "1.5 is outside [0, 1]"),
    ([{"id": "a", "aggregate_reward_score": "high"}], "'high' is not a number"),
    ([{"id": "a", "aggregate_reward_score": True}], "True is not a number"),
    ([{"id": "a", "aggregate_reward_score": 0.5}], "scored 1 of 2 samples; missing ids: b"),
])
def test_a_grader_answer_outside_the_contract_is_a_named_error(answer, message):
    with pytest.raises(GraderFailedError, match="grader G") as caught:
        read_scores(SENT, answer, "G")
    assert message in str(caught.value)


def test_a_grader_answer_within_the_contract_gives_each_score():
    answer = [{"id": "b", "aggregate_reward_score": 0, "metrics_list": []}, {"id": "a", "aggregate_reward_score": 1}]
    assert read_scores(SENT, answer, "G") == {"a": 1.0, "b": 0.0}


def test_the_built_in_grader_reads_its_settings_from_each_sample_and_answers_the_contract():
    settings = {"kind": "numeric"}
    samples = [
        {"id": "1", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "12.5"}],
         "reference_answer": "12.50", GRADER_FIELD: settings},
        {"id": "2", "messages": [{"role": "assistant", "content": "13"}],
         "metadata": {"reference_answer": "12.50", GRADER_FIELD: settings}},  # the fields under metadata, as AWS's samples read
    ]
    answer = grade_batch(samples, runtime=FakeRuntime())
    assert read_scores(samples, answer, "built-in") == {"1": 1.0, "2": 0.0}
    assert answer[0]["metrics_list"] == [{"name": "numeric", "value": 1.0, "type": "Reward"}]
    with pytest.raises(GraderFailedError, match=f"no valid {GRADER_FIELD} settings"):
        grade_batch([{"id": "3", "messages": []}], runtime=FakeRuntime())


def test_the_llm_judge_grader_asks_its_registry_judge():
    judge_id = REGISTRY.judge("nova-pro").invocation_id
    runtime = FakeRuntime()
    runtime.converse = lambda **call: runtime.calls.append(call) or ModelReply("SCORE: 10", 1, 1, 1)  # type: ignore[method-assign]
    samples = [{"id": "1", "messages": [{"role": "assistant", "content": "ok"}], "reference_answer": "ok",
                GRADER_FIELD: {"kind": "llm_judge", "judge": "nova-pro", "rubric": "Says ok, politely."}}]
    assert grade_batch(samples, runtime=runtime)[0]["aggregate_reward_score"] == 1.0
    assert runtime.calls[0]["model_id"] == judge_id and runtime.calls[0]["max_tokens"] == 16


# -- the request ---------------------------------------------------------------------------


def rft_request(**changes: Any) -> dict[str, Any]:
    return {"base_model": "nova-2-lite", "customization_type": RFT, "training_data": f"s3://{BUCKET}/train.jsonl",
            "reinforcement": {"grader": {"kind": "numeric"}}, **changes}


@pytest.mark.parametrize(("changes", "message"), [
    ({"reinforcement": None}, "request: customization_type REINFORCEMENT_FINE_TUNING needs reinforcement.grader"),
    ({"customization_type": "FINE_TUNING"}, "reinforcement: a grader is only for customization_type REINFORCEMENT_FINE_TUNING"),
    ({"reinforcement": {"grader": {"kind": "llm_judge", "judge": "gpt-5", "rubric": "Correct and short."}}},
     "reinforcement.grader.judge: unknown judge model 'gpt-5'; known: amazon.nova-pro-v1:0 (nova-pro)"),
    ({"reinforcement": {"grader": {"kind": "regex", "pattern": "(unclosed"}}}, "not a regular expression"),
    ({"reinforcement": {"grader": {"kind": "lambda", "function_arn": "my-grader"}}}, "reinforcement.grader.lambda.function_arn"),
    ({"reinforcement": {"grader": {"kind": "levenshtein"}}}, "reinforcement.grader"),
    ({"hyperparameters": {"reasoningEffort": "extreme"}}, "hyperparameters.reasoningEffort: 'extreme' is not one of low, medium, high"),
    ({"hyperparameters": {"batchSize": 8}}, "hyperparameters.batchSize: 8 is outside the allowed range [16, 512]"),
])
def test_bad_reinforcement_requests_are_refused_naming_the_field(changes, message):
    with pytest.raises(RequestInvalidError) as caught:
        parse_request({key: value for key, value in rft_request(**changes).items() if value is not None}, bucket=BUCKET)
    assert message in str(caught.value)


def test_the_reward_is_the_primary_metric_of_a_reinforcement_run_unless_the_request_says_otherwise():
    assert parse_request(rft_request(), bucket=BUCKET).evaluation.primary_metric == "reward"
    chosen = parse_request(rft_request(evaluation={"primary_metric": "rougeL"}), bucket=BUCKET)
    assert chosen.evaluation.primary_metric == "rougeL"
    with pytest.raises(RequestInvalidError, match="reward is only measured in a REINFORCEMENT_FINE_TUNING run"):
        parse_request({"base_model": "nova-lite", "training_data": f"s3://{BUCKET}/t.jsonl",
                       "evaluation": {"primary_metric": "reward"}}, bucket=BUCKET)


def test_reinforcement_hyperparameters_are_typed_for_rft_config():
    specs = REGISTRY.resolve("nova-2-lite").customization(RFT).hyperparameters
    values = resolve_hyperparameters({"reasoningEffort": "low", "learningRate": "2e-5"}, specs)
    assert typed_values(values, specs) == {
        "epochCount": 1, "batchSize": 32, "learningRate": 2e-5, "trainingSamplePerPrompt": 4, "evalInterval": 50,
        "maxPromptLength": 4096, "inferenceMaxTokens": 8192, "reasoningEffort": "low",
    }
    with pytest.raises(HyperparameterError, match="not one of"):
        resolve_hyperparameters({"reasoningEffort": 3}, specs)


# -- the grader before anything is spent, and the job's data ------------------------------------


class FakeGraders:
    def __init__(self, answer: Any = None) -> None:
        self.answer, self.calls = answer, []

    def grade(self, arn: str, samples: list[dict[str, Any]]) -> Any:
        self.calls.append((arn, samples))
        if self.answer is not None:
            return self.answer
        return [{"id": s["id"], "aggregate_reward_score": 1.0 if s["messages"][-1]["content"] == s["reference_answer"] else 0.0}
                for s in samples]


def lines(*records: dict[str, Any]) -> list[bytes]:
    return [json.dumps(r).encode() for r in records]


def settings(**env: str) -> Settings:
    return Settings(BUCKET_NAME=BUCKET, BEDROCK_ROLE_ARN="arn:aws:iam::123456789012:role/bedrock", STACK_NAME="S",
                    DEFAULT_JOB_WAIT_SECONDS=0, DEFAULT_DEPLOYMENT_WAIT_SECONDS=0, LEDGER_TABLE="ledger",
                    GRADER_FUNCTION_ARN=GRADER, **env)


def test_the_grader_is_the_stacks_own_or_one_the_stage_allows():
    request = parse_request(rft_request(), bucket=BUCKET)
    assert grader_function(request.reinforcement, settings()) == GRADER
    team = "arn:aws:lambda:us-east-1:123456789012:function:team-grader"
    own = parse_request(rft_request(reinforcement={"grader": {"kind": "lambda", "function_arn": team}}), bucket=BUCKET)
    assert grader_function(own.reinforcement, settings(ALLOWED_GRADER_ARNS=team)) == team
    with pytest.raises(RequestInvalidError, match="is not one of the stage's reinforcement_graders \\(none\\); add it in cdk.json"):
        grader_function(own.reinforcement, settings())


def test_every_record_the_grader_cannot_score_is_named_by_line():
    request = parse_request(rft_request(), bucket=BUCKET)
    data = lines(prompt(), prompt(reference="twelve"), prompt(), prompt(**{GRADER_FIELD: {}}))
    with pytest.raises(DatasetInvalidError) as caught:
        check_references(request.reinforcement, data, "train.jsonl")
    message = str(caught.value)
    assert message.startswith("train.jsonl: 2 record(s) the numeric grader cannot score")
    assert "line 2: [grader-reference] reference_answer 'twelve' is not a number" in message
    assert f"line 4: [grader-field] the field {GRADER_FIELD} is the pipeline's" in message
    check_references(request.reinforcement, lines(prompt(), prompt()), "train.jsonl")  # a good set passes


def test_the_grader_is_tried_on_the_first_records_answered_with_their_references():
    request = parse_request(rft_request(reinforcement={"grader": {"kind": "numeric"}, "preflight_records": 2}), bucket=BUCKET)
    graders = FakeGraders()
    trial = try_grader(request.reinforcement, GRADER, lines(prompt(), prompt(), prompt()), graders=graders)
    ((arn, sent),) = graders.calls
    assert arn == GRADER and [s["id"] for s in sent] == ["trial-line-1", "trial-line-2"]
    assert sent[0][GRADER_FIELD] == {"kind": "numeric", "tolerance": 0.0, "relative_tolerance": 0.0}
    assert trial["scores"] == {"trial-line-1": 1.0, "trial-line-2": 1.0} and "score 1.00 on average" in trial["note"]
    with pytest.raises(GraderFailedError, match="outside \\[0, 1\\]"):
        try_grader(request.reinforcement, GRADER, lines(prompt()),
                   graders=FakeGraders([{"id": "trial-line-1", "aggregate_reward_score": 2}]))


def test_a_teams_own_grader_is_sent_the_records_as_they_are():
    team = "arn:aws:lambda:us-east-1:123456789012:function:team"
    request = parse_request(rft_request(reinforcement={"grader": {"kind": "lambda", "function_arn": team}}), bucket=BUCKET)
    graders = FakeGraders()
    try_grader(request.reinforcement, team, lines(prompt(town="Riverton")), graders=graders)
    (sample,) = graders.calls[0][1]
    assert GRADER_FIELD not in sample and sample["town"] == "Riverton" and sample["reference_answer"] == "12.50"


def test_the_job_reads_a_copy_of_the_data_carrying_the_built_in_graders_settings():
    run = run_context(base_model="nova-2-lite", customization_type=RFT, reinforcement={"grader": {"kind": "exact_match"}},
                      validation_data=f"s3://{BUCKET}/data/validation.jsonl")
    store = FakeStore({run.training_data: b"\n".join(lines(prompt(), prompt())), run.validation_data: b"\n".join(lines(prompt()))})
    training, validation = job_data(run, store=store)
    assert training == run.uri("reinforcement/train.jsonl") and validation == run.uri("reinforcement/validation.jsonl")
    copied = [json.loads(line) for line in store.iter_lines(training)]
    assert len(copied) == 2 and all(r[GRADER_FIELD] == {"kind": "exact_match"} and r["reference_answer"] == "12.50" for r in copied)


def test_submit_job_sends_the_grader_and_typed_hyperparameters_in_rft_config():
    run = run_context(base_model="nova-2-lite", customization_type=RFT, reinforcement={"grader": {"kind": "exact_match"}})
    run = run.model_copy(update={"hyperparameters": resolve_hyperparameters(
        {}, REGISTRY.resolve("nova-2-lite").customization(RFT).hyperparameters)})
    bedrock, store = FakeBedrock(), FakeStore({run.training_data: b"\n".join(lines(prompt()))})
    key = "arn:aws:kms:us-east-1:123456789012:key/k"
    submit_job(run, role_arn="arn:aws:iam::123456789012:role/bedrock", bedrock=bedrock, ledger=FakeLedger(), store=store,
               custom_model_key=key)
    (request,) = bedrock.job_requests
    assert request.grader_arn == GRADER and request.hyperparameters == {} and request.custom_model_key == key
    assert request.rft_hyperparameters["epochCount"] == 1 and request.rft_hyperparameters["reasoningEffort"] == "high"
    assert request.training_uri == run.uri("reinforcement/train.jsonl")


def test_the_evaluation_scores_both_models_with_the_runs_grader():
    run = run_context(base_model="nova-2-lite", customization_type=RFT, reinforcement={"grader": {"kind": "exact_match"}},
                      deployment={"mode": "on_demand"}, evaluation={"max_samples": 3})
    store = FakeStore({run.test_data: b"\n".join(lines(prompt("q1", "a1"), prompt("q2", "a2"), prompt("q3", "a3")))})
    from customization.evaluation.plan import plan_evaluation

    plan = plan_evaluation(run, store=store)
    deployment = DeploymentState(kind="custom_model_deployment", arn="arn:custom", status="Active", ready=True)
    runtime = FakeRuntime({"arn:custom": {"q1": "a1", "q2": "a2", "q3": "wrong"}})
    graders = FakeGraders()
    score_shards(run, deployment, plan.shards, runtime=runtime, store=store, graders=graders)
    rows = [json.loads(line) for uri in store.list_keys(run.uri("evaluation/results/")) for line in store.iter_lines(uri)]
    assert [row["custom"]["reward"] for row in rows] == [1.0, 1.0, 0.0]
    assert [row["base"]["reward"] for row in rows] == [0.0, 0.0, 0.0]  # the base model echoes the prompt
    assert all(s[GRADER_FIELD] == {"kind": "exact_match"} for _, batch in graders.calls for s in batch)


# -- the estimate ----------------------------------------------------------------------------


def test_the_estimate_prices_rollouts_and_an_llm_judge_and_a_budget_needs_the_rollout_price():
    judge = {"kind": "llm_judge", "judge": "nova-pro", "rubric": "Correct total, as a number."}
    request = parse_request(rft_request(reinforcement={"grader": judge}, budget={"max_usd": 50}), bucket=BUCKET)
    model = REGISTRY.resolve("nova-2-lite")
    hyper = {"trainingSamplePerPrompt": "4", "inferenceMaxTokens": "100"}
    estimate = estimate_cost(request, model, REGISTRY, Workload(10_000, 5, 50.0, training_records=100), epochs=2,
                             hyperparameters=hyper)
    lines_by_item = {line.item: line for line in estimate.lines}
    rollouts = lines_by_item["reinforcement training"]
    assert rollouts.quantity == (10_000 * 4 + 400 * 100) * 2 and rollouts.usd is None
    judged = lines_by_item["judge input"]
    assert "grades 810 answers (800 in training, 10 in the evaluation)" in judged.note  # 100 x 4 x 2, and 5 x 2
    assert judged.unit_usd == REGISTRY.judge("nova-pro").input_per_1k_tokens.usd
    assert estimate.total_usd is None and estimate.unknown_prices == ["reinforcement_training_per_1k_tokens"]
    with pytest.raises(BudgetExceededError, match="no price for reinforcement_training_per_1k_tokens"):
        enforce_budget(estimate, request.budget.max_usd)
    priced = parse_request(rft_request(budget={"max_usd": 50, "prices": {"reinforcement_training_per_1k_tokens": 0.01}}),
                           bucket=BUCKET)
    assert estimate_cost(priced, model, REGISTRY, Workload(10_000, 5, 50.0, training_records=100), epochs=2,
                         hyperparameters=hyper).total_usd is not None


def test_the_estimate_command_refuses_records_the_grader_cannot_score_by_line(tmp_path, capsys):
    from bedrock_customize.cli import main

    records = [record("rft_chat", i) for i in range(100)]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    request = {**rft_request(training_data="train.jsonl"), "deployment": {"mode": "on_demand"}}
    (tmp_path / "request.json").write_text(json.dumps(request))
    assert main(["estimate", "--request", str(tmp_path / "request.json")]) == 1
    error = capsys.readouterr().err
    assert "100 record(s) the numeric grader cannot score: line 1: [grader-reference]" in error and "(and 95 more)" in error
    request["reinforcement"] = {"grader": {"kind": "rouge_l"}}
    (tmp_path / "request.json").write_text(json.dumps(request))
    assert main(["estimate", "--request", str(tmp_path / "request.json")]) == 0
    assert "reinforcement training" in capsys.readouterr().out


def test_a_grader_that_does_not_answer_in_time_is_a_named_error():
    from botocore.exceptions import ReadTimeoutError

    from customization.adapters.graders import Graders

    class SlowLambda:
        def invoke(self, **_: Any) -> Any:
            raise ReadTimeoutError(endpoint_url="https://lambda")

    with pytest.raises(GraderFailedError, match=f"the grader {GRADER} did not answer 2 samples within 120 s"):
        Graders(SlowLambda(), 120).grade(GRADER, [{"id": "a"}, {"id": "b"}])


def test_an_evaluation_judge_is_priced_for_every_answer_it_judges():
    request = parse_request({"base_model": "nova-lite", "training_data": f"s3://{BUCKET}/t.jsonl", "deployment": {"mode": "on_demand"},
                             "evaluation": {"judge": {"model": "nova-pro", "rubric": "Names the town and the cost."}}},
                            bucket=BUCKET)
    estimate = estimate_cost(request, REGISTRY.resolve("nova-lite"), REGISTRY, Workload(1000, 5, 50.0, training_records=100),
                             epochs=1)
    (judged,) = [line for line in estimate.lines if line.item == "evaluation judge input"]
    assert "judges 10 answers" in judged.note and judged.unit_usd == REGISTRY.judge("nova-pro").input_per_1k_tokens.usd
    (replies,) = [line for line in estimate.lines if line.item == "evaluation judge output"]
    assert replies.quantity == 10 * 16
    with pytest.raises(RequestInvalidError, match="use the reinforcement grader's judge"):
        parse_request(rft_request(reinforcement={"grader": {"kind": "llm_judge", "judge": "nova-pro", "rubric": "Correct total."}},
                                  evaluation={"judge": {"model": "nova-premier", "rubric": "Correct total."}}), bucket=BUCKET)


def test_a_reinforcement_run_is_billed_for_judging_only_when_its_grader_is_a_judge():
    request = parse_request(rft_request(evaluation={"judge": {"model": "nova-pro", "rubric": "Names the total."}}), bucket=BUCKET)
    estimate = estimate_cost(request, REGISTRY.resolve("nova-2-lite"), REGISTRY, Workload(1000, 5, 50.0, training_records=100),
                             epochs=1, hyperparameters={"trainingSamplePerPrompt": "2", "inferenceMaxTokens": "10"})
    items = [line.item for line in estimate.lines]
    assert "judge input" not in items and "evaluation judge input" in items  # the numeric grader needs no judge
