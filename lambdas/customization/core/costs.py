"""The cost estimate: what a run will bill, from the registry's prices, before anything is spent.

Used by `bedrock-customize estimate`, by Validate Request to hold a run to `budget.max_usd`,
and by the report. Every line names its quantity, unit price and where the price comes from;
a price the registry does not know makes the estimate incomplete rather than quietly zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from customization.errors import BudgetExceededError
from customization.evaluation.judging import REPLY_TOKENS as JUDGE_REPLY_TOKENS
from customization.models.costs import CostEstimate, CostLine, hours_billed
from customization.models.request import JudgeGrader
from customization.registry import PriceName

if TYPE_CHECKING:
    from customization.models.request import CustomizationRequest
    from customization.registry import BaseModelSpec, JudgeSpec, Price, Registry, TeacherSpec

HOURS_PER_MONTH = 730
# Planning figures, not measurements of any account: they are printed with the estimate.
DEPLOYMENT_READY_HOURS = 0.5
SECONDS_PER_CALL = 5.0
BEDROCK_EVALUATION_JOB_HOURS = 1.0
JUDGE_PROMPT_TOKENS = 60  # an LLM judge's fixed instructions


@dataclass(frozen=True)
class Workload:
    """What the datasets say about the run, after validation."""

    training_tokens: int
    test_samples: int
    test_tokens_per_sample: float
    training_records: int = 0


class PricedLines:
    """The estimate's lines, each priced from the request's overrides, else the registry; it
    remembers where every price came from (a price nobody knows is None, never 0)."""

    def __init__(
        self, request: CustomizationRequest, model: BaseModelSpec, teacher: TeacherSpec | None = None,
        judge: JudgeSpec | None = None,
    ) -> None:
        self.overrides: dict[str, float] = dict(request.budget.prices)
        self.model, self.teacher, self.judge = model, teacher, judge
        self.used: dict[str, tuple[float | None, str]] = {}
        self.lines: list[CostLine] = []

    def price(self, name: PriceName) -> Price | None:
        if name.startswith("teacher_"):
            return getattr(self.teacher, name.removeprefix("teacher_"), None) if self.teacher else None
        if name.startswith("judge_"):
            return getattr(self.judge, name.removeprefix("judge_"), None) if self.judge else None
        return self.model.pricing.price(name)

    def rate(self, name: PriceName) -> float | None:
        if name in self.overrides:
            self.used[name] = (self.overrides[name], "request")
            return self.overrides[name]
        price = self.price(name)
        self.used[name] = (None, "unknown") if price is None else (price.usd, price.source)
        return None if price is None else price.usd

    def add(self, item: str, quantity: float, unit: str, name: PriceName | None, per: float = 1.0, note: str = "") -> None:
        unit_usd = self.rate(name) if name else 0.0
        usd = None if unit_usd is None else quantity / per * unit_usd
        self.lines.append(CostLine(item=item, quantity=quantity, unit=unit, price=name, unit_usd=unit_usd, usd=usd, note=note))


def deployment_hours(request: CustomizationRequest, samples: int) -> float:
    """How long the deployment is expected to exist: ready, then both models answer each sample
    (and Bedrock's own evaluation job runs, when asked)."""
    settings = request.evaluation
    calls_hours = samples * 2 * SECONDS_PER_CALL / settings.concurrency / 3600
    return DEPLOYMENT_READY_HOURS + calls_hours + (BEDROCK_EVALUATION_JOB_HOURS if settings.bedrock_evaluation_job else 0.0)


def add_deployment(priced: PricedLines, request: CustomizationRequest, expected_hours: float) -> float | None:
    """The deployment's line; returns what it would cost if it lived to deployment.max_hours."""
    mode = request.deployment.mode
    if mode == "provisioned":
        units = request.deployment.model_units
        hours = hours_billed(expected_hours)
        priced.add("provisioned throughput", units * hours, "model-unit hours", "provisioned_per_model_unit_hour",
                   note=f"{units} model unit(s) x {hours} h (ready in about {DEPLOYMENT_READY_HOURS:g} h, then the evaluation)")
        hourly = priced.rate("provisioned_per_model_unit_hour")
        return None if hourly is None else units * hours_billed(request.deployment.max_hours) * hourly
    if mode == "on_demand":
        priced.add("on-demand deployment", 0, "hours", None, note="no hourly charge; billed per token below")
    return 0.0


def add_evaluation(priced: PricedLines, request: CustomizationRequest, workload: Workload, samples: int) -> None:
    if not samples:
        return
    max_tokens = request.evaluation.max_tokens
    input_tokens, output_tokens = math.ceil(samples * workload.test_tokens_per_sample), samples * max_tokens
    note = f"{samples} samples; output counted at max_tokens={max_tokens} (an upper bound)"
    roles = ["base", "custom"] if request.deployment.mode == "on_demand" else ["base"]  # else: billed by the hour
    if priced.teacher is not None:  # a distilled student is also held to its teacher
        roles.append("teacher")
    for role in roles:
        priced.add(f"{role} model input", input_tokens, "tokens", f"{role}_input_per_1k_tokens", per=1000, note=note)  # type: ignore[arg-type]
        priced.add(f"{role} model output", output_tokens, "tokens", f"{role}_output_per_1k_tokens", per=1000, note=note)  # type: ignore[arg-type]
    judge = request.evaluation.judge
    if judge is not None and priced.judge is not None:  # every answer judged: the prompt, the reference, the answer
        answers = samples * (3 if priced.teacher is not None else 2)
        add_judging(priced, "evaluation judge", answers, workload.test_tokens_per_sample + max_tokens, judge.rubric,
                    note=f"{priced.judge.display_name} judges {answers} answers (answers counted at max_tokens)")


def add_judging(priced: PricedLines, item: str, calls: int, tokens_per_call: float, rubric: str, *, note: str) -> None:
    """An LLM judge's bill: each call reads the judged material, the rubric and its fixed
    instructions, and answers with a score."""
    judged = math.ceil(calls * (tokens_per_call + len(rubric) / 4 + JUDGE_PROMPT_TOKENS))
    priced.add(f"{item} input", judged, "tokens", "judge_input_per_1k_tokens", per=1000, note=note)
    priced.add(f"{item} output", calls * JUDGE_REPLY_TOKENS, "tokens", "judge_output_per_1k_tokens", per=1000,
               note=f"a score of at most {JUDGE_REPLY_TOKENS} tokens per answer")


def add_storage(priced: PricedLines, request: CustomizationRequest, expected_hours: float) -> None:
    if request.teardown.delete_custom_model:
        priced.add("custom model storage", round(expected_hours / HOURS_PER_MONTH, 4), "months", "storage_per_month",
                   note="deleted at the end of the run (teardown.delete_custom_model)")
    else:
        priced.add("custom model storage", 1, "months", "storage_per_month",
                   note="the first month; the model is kept and bills every month until deleted")


def add_teacher(priced: PricedLines, request: CustomizationRequest, workload: Workload) -> int:
    """A distillation teacher answers every prompt, billed at its on-demand rates; returns the
    answers' tokens (the student trains on them too), counted at their upper bound."""
    if request.distillation is None or priced.teacher is None:
        return 0
    if request.invocation_logs is not None and request.invocation_logs.use_responses:
        return 0  # Bedrock trains on the logged responses (counted with the prompts); the teacher is not asked
    length = request.distillation.max_response_length
    answers = workload.training_records * length
    name = priced.teacher.display_name
    priced.add("teacher input", workload.training_tokens, "tokens", "teacher_input_per_1k_tokens", per=1000,
               note=f"{name} reads {workload.training_records:,} prompts")
    priced.add("teacher output", answers, "tokens", "teacher_output_per_1k_tokens", per=1000,
               note=f"{workload.training_records:,} answers x max_response_length={length} (an upper bound)")
    return answers


def add_reinforcement(priced: PricedLines, request: CustomizationRequest, workload: Workload, hyperparameters: dict[str, str],
                      *, epochs: int, samples: int) -> int:
    """Reinforcement fine-tuning trains on the model's own answers: each prompt answered
    trainingSamplePerPrompt times per epoch, each answer graded (an LLM judge bills its tokens).
    Returns the rollout tokens (prompts and answers, counted at inferenceMaxTokens: an upper bound)."""
    per_prompt = int(float(hyperparameters.get("trainingSamplePerPrompt", "1")))
    answer_tokens = int(float(hyperparameters.get("inferenceMaxTokens", "0")))
    answers = workload.training_records * per_prompt * epochs
    rollouts = (workload.training_tokens * per_prompt + answers // max(1, epochs) * answer_tokens) * epochs
    priced.add("reinforcement training", rollouts, "tokens (rollouts x epochs)", "reinforcement_training_per_1k_tokens",
               per=1000, note=f"{workload.training_records:,} prompts x {per_prompt} answers (trainingSamplePerPrompt) x "
               f"{epochs} epochs, each answer counted at inferenceMaxTokens={answer_tokens}")
    grader = request.reinforcement.grader if request.reinforcement else None
    if isinstance(grader, JudgeGrader) and priced.judge is not None:
        per_record = workload.training_tokens / workload.training_records if workload.training_records else 0.0
        calls = answers + samples * 2  # every training answer, then both models' evaluation answers
        add_judging(priced, "judge", calls, per_record + answer_tokens, grader.rubric,
                    note=f"{priced.judge.display_name} grades {calls:,} answers ({answers:,} in training, {samples * 2} in the evaluation)")
    return rollouts


def estimate_cost(
    request: CustomizationRequest, model: BaseModelSpec, registry: Registry, workload: Workload, *, epochs: int,
    hyperparameters: dict[str, str] | None = None,
) -> CostEstimate:
    teacher = registry.teacher(request.distillation.teacher) if request.distillation else None
    grader = request.reinforcement.grader if request.reinforcement else None
    judge_name = grader.judge if grader is not None and grader.kind == "llm_judge" else None
    if judge_name is None and request.evaluation.judge is not None:
        judge_name = request.evaluation.judge.model
    judge = registry.judge(judge_name) if judge_name else None
    priced = PricedLines(request, model, teacher, judge)
    samples = workload.test_samples if request.deployment.mode != "none" else 0
    if request.reinforcement is not None:
        billed_tokens = add_reinforcement(priced, request, workload, hyperparameters or {}, epochs=epochs, samples=samples)
    else:
        answers = add_teacher(priced, request, workload)
        trained = workload.training_tokens + answers
        billed_tokens = trained * epochs
        priced.add("training", billed_tokens, "tokens (tokens x epochs)", "training_per_1k_tokens", per=1000,
                   note=f"{trained:,} tokens x {epochs} epochs" + (" (prompts and the teacher's answers)" if answers else ""))
    expected_hours = deployment_hours(request, samples)
    worst_case_deployment = add_deployment(priced, request, expected_hours)
    add_evaluation(priced, request, workload, samples)
    add_storage(priced, request, expected_hours)

    lines, used = priced.lines, priced.used
    unknown = sorted({name for name, (usd, _) in used.items() if usd is None})
    known = sum(item.usd or 0.0 for item in lines)
    total = None if unknown else known
    expected_deployment = sum(item.usd or 0.0 for item in lines if item.price == "provisioned_per_model_unit_hour")
    worst = None if total is None or worst_case_deployment is None else total - expected_deployment + worst_case_deployment
    unconfirmed = sorted(
        name for name, (usd, source) in used.items()
        if usd is not None and source != "request" and not priced.price(name).confirmed  # type: ignore[arg-type,union-attr]
    )
    sources = {
        key: f"{registry.price_sources[key].description} (as of {registry.price_sources[key].as_of})"
        for key in sorted({source for _, source in used.values() if source in registry.price_sources})
    }
    return CostEstimate(
        base_model=model.model_id, region=model.pricing.region, training_tokens_per_epoch=workload.training_tokens,
        epochs=epochs, billed_training_tokens=billed_tokens, lines=lines,
        total_usd=None if total is None else round(total, 4), known_usd=round(known, 4),
        worst_case_usd=None if worst is None else round(worst, 4), unknown_prices=unknown,
        unconfirmed_prices=unconfirmed, overridden_prices=sorted(priced.overrides), sources=sources,
        assumptions=[*assumptions(model), *filter(None, [request.deployment.chosen_because])],
    )


def assumptions(model: BaseModelSpec) -> list[str]:
    return [
        f"prices are {model.pricing.region} list prices in USD; taxes, discounts and other regions are not applied",
        "training tokens are estimated from characters (the validator's rule), not counted by a tokenizer",
        f"a deployment takes about {DEPLOYMENT_READY_HOURS:g} h to become ready; each model answer about "
        f"{SECONDS_PER_CALL:g} s at the request's concurrency",
        "S3, Lambda, Step Functions and DynamoDB charges are not included (cents for a run)",
    ]


def money(usd: float) -> str:
    return f"${usd:,.2f}" if usd >= 0.01 or usd == 0 else f"${usd:.6f}".rstrip("0")


def enforce_budget(estimate: CostEstimate, max_usd: float | None) -> None:
    """Fail the run before anything is spent when the estimate is over budget, or cannot be
    completed because a price is unknown (a budget that cannot be checked protects nobody)."""
    if max_usd is None:
        return
    if estimate.total_usd is None:
        raise BudgetExceededError(
            f"budget.max_usd: ${max_usd:,.2f} cannot be checked: the registry has no price for "
            f"{', '.join(estimate.unknown_prices)} of {estimate.base_model}; the known part of the estimate is "
            f"${estimate.known_usd:,.2f}. Give the missing price(s) in budget.prices"
        )
    if estimate.total_usd > max_usd:
        biggest = max(estimate.lines, key=lambda item: item.usd or 0.0)
        raise BudgetExceededError(
            f"budget.max_usd: the estimated cost ${estimate.total_usd:,.2f} is above the budget of ${max_usd:,.2f} "
            f"(largest item: {biggest.item}, ${biggest.usd or 0.0:,.2f}); nothing was started"
        )


def render_estimate(estimate: CostEstimate, *, max_usd: float | None = None, on_demand_usd: float | None = None) -> str:
    """The estimate as a table a person reads in a terminal."""
    rows = [f"Cost estimate for {estimate.base_model} ({estimate.region}, {estimate.currency})", ""]
    rows.append(f"{'item':<24} {'quantity':>12} {'unit':<26} {'unit price':>14} {'cost':>11}")
    for item in estimate.lines:
        unit_price = "unknown" if item.unit_usd is None else money(item.unit_usd)
        per = "/1k" if item.price and "per_1k" in item.price else ""
        cost = "unknown" if item.usd is None else f"${item.usd:,.2f}"
        quantity = f"{item.quantity:,.0f}" if float(item.quantity).is_integer() else f"{item.quantity:,.4f}"
        rows.append(f"{item.item:<24} {quantity:>12} {item.unit:<26} {unit_price + per:>14} {cost:>11}")
        if item.note:
            rows.append(f"{'':<26}{item.note}")
    rows += ["", f"total: {estimate.describe_total()}"]
    if estimate.worst_case_usd is not None and estimate.worst_case_usd != estimate.total_usd:
        rows.append(f"worst case, if the deployment lives to deployment.max_hours: ${estimate.worst_case_usd:,.2f}")
    if on_demand_usd is not None:
        rows.append(f'with deployment.mode "on_demand" (this model supports it, billed per token): ${on_demand_usd:,.2f}')
    if max_usd is not None:
        if estimate.total_usd is None:
            verdict = "cannot be checked while a price is unknown: the run would be REJECTED"
        else:
            verdict = "within budget" if estimate.total_usd <= max_usd else "over budget: the run would be REJECTED"
        rows.append(f"budget.max_usd: ${max_usd:,.2f} -> {verdict}")
    if estimate.unknown_prices:
        rows.append(f"unknown prices (give them in budget.prices): {', '.join(estimate.unknown_prices)}")
    if estimate.unconfirmed_prices:
        rows.append(f"unconfirmed prices (check https://aws.amazon.com/bedrock/pricing/): {', '.join(estimate.unconfirmed_prices)}")
    if estimate.overridden_prices:
        rows.append(f"prices from the request: {', '.join(estimate.overridden_prices)}")
    rows += ["", "sources:"] + [f"  {key}: {text}" for key, text in estimate.sources.items()]
    rows += ["assumptions:"] + [f"  - {text}" for text in estimate.assumptions]
    return "\n".join(rows)


# The lines each trained model adds (its training, its teacher, its custom model's storage); the
# others serve and evaluate a deployment.
TRAINING_ITEMS = ("training", "reinforcement training", "teacher input", "teacher output", "custom model storage")


def training_usd(estimate: CostEstimate) -> float | None:
    lines = [line for line in estimate.lines if line.item in TRAINING_ITEMS]
    return None if any(line.usd is None for line in lines) else round(sum(line.usd or 0.0 for line in lines), 4)


# (label, estimate, which of its lines count): one trained model's share of a combined estimate.
CostPart = tuple[str, CostEstimate, Literal["training", "serving", "both"]]


def combine_estimates(parts: list[CostPart], *, note: str) -> CostEstimate:
    """Several trained models as one estimate: each part's training lines, its serving and
    evaluation lines, or both, under its label (a sweep by loss deploys one candidate, a sweep
    by metric each; a multi-stage run its last stage, or each stage when asked)."""
    def wanted(line: CostLine, what: str) -> bool:
        return what == "both" or (line.item in TRAINING_ITEMS) == (what == "training")

    lines = [line.model_copy(update={"item": f"{label}: {line.item}"})
             for label, estimate, what in parts for line in estimate.lines if wanted(line, what)]
    unknown = sorted({line.price for line in lines if line.usd is None and line.price})
    known = round(sum(line.usd or 0.0 for line in lines), 4)
    total = None if unknown else known
    margins = [None if e.worst_case_usd is None or e.total_usd is None else e.worst_case_usd - e.total_usd
               for _, e, what in parts if what != "training"]
    worst = None if total is None or None in margins else round(total + sum(m for m in margins if m is not None), 4)
    trained = [e for _, e, what in parts if what != "serving"]
    first = parts[0][1]
    return first.model_copy(update={
        "lines": lines, "total_usd": total, "known_usd": known, "worst_case_usd": worst, "unknown_prices": unknown,
        "epochs": max(e.epochs for e in trained),
        "billed_training_tokens": sum(e.billed_training_tokens for e in trained),
        "unconfirmed_prices": sorted({n for _, e, _ in parts for n in e.unconfirmed_prices}),
        "overridden_prices": sorted({n for _, e, _ in parts for n in e.overridden_prices}),
        "sources": {k: v for _, e, _ in parts for k, v in e.sources.items()},
        "assumptions": [*first.assumptions, note],
    })
