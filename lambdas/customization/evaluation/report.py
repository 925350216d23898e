"""Report Evaluation: score every answered sample, compare the models with intervals, decide
the promotion gate, read the training curves, set what was measured beside the estimate, and
publish report.json and report.html. Each part is one function below; `report_evaluation`
composes them."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from customization.evaluation.contracts import (
    ROLES,
    Answer,
    AnsweredSample,
    CostSection,
    EvaluationReport,
    FailedSample,
    MeasuredUsage,
    Role,
    ScoredSample,
    SecondEngine,
    TeacherComparison,
    TrainingAnalysis,
)
from customization.evaluation.curves import TRAINING_FILE, VALIDATION_FILE, Curves, analyse, parse_metrics
from customization.evaluation.gate import promotion_decision
from customization.evaluation.metrics import active_metrics, score_answer
from customization.evaluation.page import render_report
from customization.evaluation.score import read_results
from customization.evaluation.second_engine import job_metrics
from customization.evaluation.statistics import bootstrap_interval, mean_score, verdict
from customization.models.costs import hours_billed
from customization.models.steps import (
    DeploymentState,
    EvaluationJobState,
    EvaluationSummary,
    JobState,
    RunContext,
)
from customization.registry import load_registry
from customization.vocabulary import REPORT_HTML, REPORT_JSON, ResourceKind

if TYPE_CHECKING:
    from customization.adapters.storage import ObjectStore
    from customization.models.experiments import ExperimentState

SIMULATED_NOTE = "Bedrock was simulated offline: answers, curves and scores describe the simulation"


@dataclass(frozen=True)
class Comparison:
    """Base against custom over the paired samples, metric by metric."""

    metrics: list[str]
    scores: dict[Role, list[dict[str, float]]]  # per paired sample
    means: dict[Role, dict[str, float]]
    deltas: dict[str, float]
    intervals: dict[str, tuple[float, float]]


def answer_scores(answer: Answer, reference: str, metrics: list[str]) -> dict[str, float]:
    values = score_answer(answer.text or "", reference, metrics)
    # A metric computed while answering (similarity) is read from the answer.
    values.update({name: getattr(answer, name) or 0.0 for name in metrics if name not in values})
    return values


def compare(paired: list[AnsweredSample], metrics: list[str], *, seed: int) -> Comparison:
    scores: dict[Role, list[dict[str, float]]] = {role: [] for role in ROLES}
    for row in paired:
        for role in ROLES:
            scores[role].append(answer_scores(row.answer(role), row.reference, metrics))
    means = {role: {m: mean_score([s[m] for s in scores[role]]) for m in metrics} for role in ROLES}
    deltas = {m: round(means["custom"][m] - means["base"][m], 4) for m in metrics}
    intervals = {
        m: bootstrap_interval([c[m] - b[m] for b, c in zip(scores["base"], scores["custom"], strict=True)], seed=seed)
        for m in metrics
    }
    return Comparison(metrics, scores, means, deltas, intervals)


def scored_samples(paired: list[AnsweredSample], comparison: Comparison, primary: str) -> list[ScoredSample]:
    """Each sample side by side, largest regressions first."""
    samples = [
        ScoredSample(
            index=row.index, reference=row.reference, media=row.media, base=row.base.text or "", custom=row.custom.text or "",
            scores={"base": base, "custom": custom}, delta=round(custom[primary] - base[primary], 4),
            latency_ms={role: row.answer(role).latency_ms for role in ROLES},
            output_tokens={role: row.answer(role).output_tokens for role in ROLES},
        )
        for row, base, custom in zip(paired, comparison.scores["base"], comparison.scores["custom"], strict=True)
    ]
    return sorted(samples, key=lambda sample: sample.delta)


PICTURE_FORMATS = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
MAX_PICTURES, MAX_PICTURE_BYTES = 24, 1 << 20  # the page stays one self-contained file of a few MB at most


def report_pictures(samples: list[ScoredSample], store: ObjectStore) -> dict[str, str]:
    """The first images the samples show, inlined for the page (the bucket is private)."""
    pictures: dict[str, str] = {}
    for uri in dict.fromkeys(uri for sample in samples for uri in sample.media):
        kind = PICTURE_FORMATS.get(uri.rsplit(".", 1)[-1].lower())
        if kind is None or len(pictures) >= MAX_PICTURES or (store.size(uri) or MAX_PICTURE_BYTES + 1) > MAX_PICTURE_BYTES:
            continue
        pictures[uri] = f"data:{kind};base64,{base64.b64encode(store.read_bytes(uri)).decode()}"
    return pictures


def failed_samples(rows: list[AnsweredSample]) -> list[FailedSample]:
    return [FailedSample(index=row.index, base=row.base.error, custom=row.custom.error) for row in rows if not row.paired]


def training_analysis(run: RunContext, job: JobState | None, store: ObjectStore) -> TrainingAnalysis:
    curves = Curves()
    if job is not None:
        job_id = job.job_arn.rsplit("/", 1)[-1]
        for uri in store.list_keys(f"{run.output_uri}model-customization-job-{job_id}/"):
            if uri.endswith(TRAINING_FILE):
                text = store.read_text(uri)
                curves.training = parse_metrics(text, "training_loss")
                curves.rewards = parse_metrics(text, "reward_mean")
            elif uri.endswith(VALIDATION_FILE):
                curves.validation = parse_metrics(store.read_text(uri), "validation_loss")
    spec = load_registry().resolve(run.base_model_id).customization(run.customization_type)
    epochs_spec = spec.hyperparameters.get("epochCount")
    return analyse(
        curves, epochs=int(float(run.hyperparameters.get("epochCount", "1"))),
        max_epochs=int(epochs_spec.bounds[1]) if epochs_spec else 1,
    )


def measured_usage(run: RunContext, deployment: DeploymentState, rows: list[AnsweredSample], now: datetime) -> MeasuredUsage:
    """The evaluation's tokens and the deployment's hours until this report (Tear Down deletes
    it next), at the estimate's rates."""
    rates = run.cost_estimate.rates()
    tokens: dict[str, int] = {}
    usd: float | None = 0.0
    answered: dict[str, list[Answer]] = {role: [row.answer(role) for row in rows if row.answer(role).answered] for role in ROLES}
    if run.teacher_invocation_id:
        answered["teacher"] = [row.teacher for row in rows if row.teacher is not None and row.teacher.answered]
    for role, answers in answered.items():
        for kind in ("input", "output"):
            count = sum(getattr(a, f"{kind}_tokens") or 0 for a in answers)
            tokens[f"{role}_{kind}_tokens"] = count
            if role == "custom" and deployment.kind != ResourceKind.CUSTOM_MODEL_DEPLOYMENT:
                continue  # answered by the provisioned throughput, billed by the hour
            rate = rates.get(f"{role}_{kind}_per_1k_tokens")
            usd = None if usd is None or rate is None else usd + count / 1000 * rate
    hours = (now - deployment.created_at).total_seconds() / 3600 if deployment.created_at else 0.0
    hourly = rates.get("provisioned_per_model_unit_hour")
    deployment_usd: float | None = 0.0
    if deployment.kind == ResourceKind.PROVISIONED_THROUGHPUT:
        billed = hours_billed(hours) * run.deployment.model_units
        deployment_usd = None if hourly is None else round(billed * hourly, 4)
    return MeasuredUsage(
        deployment=deployment.kind, **tokens, inference_usd=None if usd is None else round(usd, 4),
        deployment_hours=round(hours, 4), deployment_usd=deployment_usd,
    )


def teacher_comparison(run: RunContext, rows: list[AnsweredSample], metrics: list[str], primary: str) -> TeacherComparison | None:
    """For a distillation run: the student and its teacher on the samples both answered."""
    if not run.teacher_invocation_id:
        return None
    both = [row for row in rows if row.custom.answered and row.teacher is not None and row.teacher.answered]
    teacher_scores = [answer_scores(row.teacher, row.reference, metrics) for row in both]  # type: ignore[arg-type]
    student_scores = [answer_scores(row.custom, row.reference, metrics) for row in both]
    teacher_means = {m: mean_score([s[m] for s in teacher_scores]) for m in metrics}
    student_means = {m: mean_score([s[m] for s in student_scores]) for m in metrics}
    kept = round(student_means[primary] / teacher_means[primary], 4) if both and teacher_means[primary] else None
    rates = run.cost_estimate.rates()
    shares: dict[str, float | None] = {}
    for kind in ("input", "output"):  # the custom model's on-demand rate, else its base model's
        student = rates.get(f"custom_{kind}_per_1k_tokens", rates.get(f"base_{kind}_per_1k_tokens"))
        teacher = rates.get(f"teacher_{kind}_per_1k_tokens")
        shares[kind] = round(student / teacher, 4) if student is not None and teacher else None
    name = load_registry().teacher(run.teacher_invocation_id).display_name
    if not both:
        text = f"{name} answered no sample the student answered, so they are not compared"
    else:
        kept_text = f"reached {kept:.0%} of" if kept is not None else "is compared with"
        price = f", at {shares['output']:.0%} of its price per output token" if shares["output"] is not None else ""
        text = (f"the distilled student {kept_text} {name}'s {primary} ({student_means[primary]:.4f} vs "
                f"{teacher_means[primary]:.4f}) on {len(both)} samples{price}")
    return TeacherComparison(teacher=run.teacher_invocation_id, samples=len(both), teacher_metrics=teacher_means,
                             student_metrics=student_means, kept=kept, price_share=shares, text=text)


def second_engine(job: EvaluationJobState | None, run: RunContext, deployment: DeploymentState, store: ObjectStore) -> SecondEngine | None:
    """Bedrock's own evaluation job, when the request asked for it: its outcome, outputs and
    metrics (both models', with their names and scales)."""
    if job is None or not job.requested:
        return None
    metrics = job_metrics(job.output_uri, base_model=run.base_model_invocation_id, custom_model=deployment.arn or "", store=store) \
        if job.output_uri and job.status == "Completed" else []
    return SecondEngine(
        job_arn=job.arn, status=job.status, failure_messages=job.failure_messages, output_uri=job.output_uri,
        outputs=store.list_keys(job.output_uri) if job.output_uri else [], metrics=metrics,
    )


def with_experiment(report: EvaluationReport, experiment: ExperimentState | None) -> EvaluationReport:
    """The report with the sweep's candidates (or the stages) and the one chosen, once chosen."""
    if experiment is None or not experiment.done:
        return report
    key = "candidates" if experiment.kind == "sweep" else "stages"
    return report.model_copy(update={key: experiment.results, "selected": experiment.selected})


def report_evaluation(
    run: RunContext, deployment: DeploymentState, job: JobState | None, *, store: ObjectStore, now: datetime, simulated: bool,
    evaluation_job: EvaluationJobState | None = None, experiment: ExperimentState | None = None,
) -> EvaluationSummary:
    settings = run.evaluation
    rows = read_results(run, store)
    paired = [row for row in rows if row.paired]
    switches = {**settings.model_dump(), "reinforcement": run.reinforcement is not None}
    comparison = compare(paired, active_metrics(switches), seed=settings.seed)
    primary = settings.primary_metric
    promoted, why = promotion_decision(comparison.deltas[primary], comparison.intervals[primary], len(paired), settings)
    outcome = verdict(comparison.means["base"][primary], comparison.means["custom"][primary], len(paired), primary)
    estimate = run.cost_estimate
    report = EvaluationReport(
        simulated=simulated, simulated_note=SIMULATED_NOTE if simulated else None, execution=run.execution_name,
        base_model=run.base_model_id, base_model_invocation_id=run.base_model_invocation_id, custom_model=deployment.arn,
        primary_metric=primary, min_improvement=settings.min_improvement, metrics=comparison.means,
        delta=comparison.deltas, ci95=comparison.intervals, promoted=promoted, why=why, verdict=outcome.text,
        samples_scored=len(paired), samples_failed=failed_samples(rows), training=training_analysis(run, job, store),
        split=run.split,
        cost=CostSection(estimate=estimate, estimated_total_usd=estimate.total_usd, budget_usd=run.budget.max_usd,
                         measured=measured_usage(run, deployment, rows, now)),
        second_engine=second_engine(evaluation_job, run, deployment, store),
        teacher=teacher_comparison(run, rows, comparison.metrics, primary),
        samples=scored_samples(paired, comparison, primary),
    )
    report = with_experiment(report, experiment)
    report_uri, html_uri = run.uri(REPORT_JSON), run.uri(REPORT_HTML)
    store.put_json(report_uri, report.model_dump(mode="json"))
    store.put_bytes(html_uri, render_report(report, report_pictures(report.samples, store)).encode(), "text/html; charset=utf-8")
    return EvaluationSummary(
        samples=len(paired), failed=len(report.samples_failed), source=run.test_data, base_model=run.base_model_invocation_id,
        custom_model=deployment.arn or "", primary_metric=primary, base=comparison.means["base"],
        custom=comparison.means["custom"], delta=comparison.deltas[primary], ci95=list(comparison.intervals[primary]),
        promoted=promoted, why=why, custom_is_better=outcome.custom_is_better, verdict=outcome.text,
        training_flags=report.training.flags, report_uri=report_uri, report_html_uri=html_uri,
        teacher=report.teacher.text if report.teacher else None,
    )
