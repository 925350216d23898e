"""report.html: one self-contained page (inline SVG and CSS, nothing loaded from the
network) with the loss curves, base vs custom with deltas and intervals, and the samples side
by side, largest regressions first."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from customization.evaluation.contracts import ROLES, EvaluationReport

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#1d1d1f}
h1{font-size:1.5rem} h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0} td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
.banner{background:#fff3cd;border:1px solid #e0c060;padding:.6rem;margin:1rem 0}
.yes{color:#116b2e;font-weight:bold} .no{color:#a01515;font-weight:bold}
.neg{color:#a01515} .pos{color:#116b2e} .small{font-size:.85rem;color:#555}
td.text{max-width:360px;white-space:pre-wrap}
"""


def _chart(series: list[tuple[str, str, Sequence[tuple[int, float]]]], width: int = 640, height: int = 240) -> str:
    height += 14 * ((len(series) - 1) // 4)  # room for the legend's rows
    points = [p for _, _, data in series for p in data]
    if not points:
        return "<p class='small'>No curve data.</p>"
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs) or 1, min(ys), max(ys)
    span_x, span_y = (x1 - x0) or 1, (y1 - y0) or 1
    pad = 40

    def project(x: float, y: float) -> str:
        return f"{pad + (x - x0) / span_x * (width - 2 * pad):.1f},{height - pad - (y - y0) / span_y * (height - 2 * pad):.1f}"

    lines = [
        f"<polyline fill='none' stroke='{color}' stroke-width='2' points='{' '.join(project(x, y) for x, y in data)}'/>"
        for _, color, data in series if data
    ]
    legend = "".join(  # four names a row, above the plot
        f"<text x='{pad + 150 * (i % 4)}' y='{14 + 14 * (i // 4)}' fill='{color}' font-size='12'>{escape(name)}</text>"
        for i, (name, color, _) in enumerate(series)
    )
    axes = (
        f"<line x1='{pad}' y1='{height - pad}' x2='{width - pad}' y2='{height - pad}' stroke='#888'/>"
        f"<line x1='{pad}' y1='{pad}' x2='{pad}' y2='{height - pad}' stroke='#888'/>"
        f"<text x='4' y='{pad}' font-size='11'>{y1:.3g}</text><text x='4' y='{height - pad}' font-size='11'>{y0:.3g}</text>"
    )
    return f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img'>{axes}{legend}{''.join(lines)}</svg>"


# One colour per candidate or stage on the shared charts (repeats after ten).
PALETTE = ("#1f5fbf", "#bf5f1f", "#1f8f3f", "#8f1fbf", "#bf1f5f", "#5f8f1f", "#1f8f8f", "#8f5f1f", "#5f5f5f", "#bf9f1f")


def _trained_models(report: EvaluationReport) -> list[str]:
    """A sweep's candidates (or a multi-stage run's stages): a table, why this one was chosen, and
    every model's loss curves on one chart."""
    models, title = (report.candidates, "Sweep: the candidates") if report.candidates else (report.stages, "Stages")
    if not models:
        return []
    varying = sorted({name for m in models for name, value in m.hyperparameters.items()
                      if any(other.hyperparameters.get(name) != value for other in models)})

    def number(value: float | None, digits: int = 4) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    rows = "".join(
        f"<tr><th>{escape(m.label)}{' (chosen)' if report.selected and report.selected.index == m.index else ''}</th>"
        f"<td>{escape(', '.join(f'{n}={m.hyperparameters.get(n)}' for n in varying) or '-')}</td><td>{escape(m.status)}</td>"
        f"<td>{number(m.final_training_loss)}</td><td>{number(m.final_validation_loss)}</td><td>{number(m.metric)}</td>"
        f"<td>{'-' if m.ci95 is None else f'{m.ci95[0]:+.4f} to {m.ci95[1]:+.4f}'}</td>"
        f"<td>{'unknown' if m.estimated_usd is None else f'${m.estimated_usd:,.2f}'}</td><td>{escape(m.custom_model)}</td>"
        f"<td class='small'>{escape(m.failure or '')}</td></tr>"
        for m in models
    )
    chosen = f"<p><b>Chosen: {escape(report.selected.label)}</b>, {escape(report.selected.reason)}.</p>" if report.selected else ""
    parts = [
        f"<h2>{title}</h2>{chosen}<table><tr><th></th><th>hyperparameters</th><th>status</th><th>final training loss</th>"
        f"<th>final validation loss</th><th>{escape(report.primary_metric)} (custom)</th><th>delta's 95% interval</th>"
        f"<th>training cost (estimate)</th><th>custom model</th><th>failure</th></tr>{rows}</table>",
        _chart([(f"{m.label} training", PALETTE[i % len(PALETTE)], m.training_curve) for i, m in enumerate(models)]),
    ]
    if any(m.validation_curve for m in models):
        parts.append(_chart([(f"{m.label} validation", PALETTE[i % len(PALETTE)], m.validation_curve)
                             for i, m in enumerate(models)]))
    parts.append("<p class='small'>Training loss by step and validation loss by epoch, one colour per model.</p>")
    return parts


def _signed(value: float) -> str:
    css = "pos" if value > 0 else "neg" if value < 0 else ""
    return f"<span class='{css}'>{value:+.4f}</span>"


def render_report(report: EvaluationReport, pictures: dict[str, str] | None = None) -> str:
    """The page; `pictures` maps a sample's image URI to a data: URI, shown beside its answers
    (an image without one is named by its URI)."""
    metrics = list(report.metrics["base"])
    training = report.training
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Evaluation {escape(report.execution)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Custom vs base: {escape(report.base_model)}</h1>",
    ]
    if report.simulated:
        parts.append(f"<div class='banner'><b>SIMULATED.</b> {escape(report.simulated_note or '')}.</div>")
    decision = "<span class='yes'>PROMOTED</span>" if report.promoted else "<span class='no'>NOT PROMOTED</span>"
    parts.append(f"<p>{decision}: {escape(report.why)}.</p><p>{escape(report.verdict)}.</p>")
    rows = "".join(
        f"<tr><th>{escape(m)}{' (primary)' if m == report.primary_metric else ''}</th>"
        f"<td>{report.metrics['base'][m]:.4f}</td><td>{report.metrics['custom'][m]:.4f}</td>"
        f"<td>{_signed(report.delta[m])}</td><td>{report.ci95[m][0]:+.4f} to {report.ci95[m][1]:+.4f}</td></tr>"
        for m in metrics
    )
    engine = report.second_engine
    rows += "".join(  # Bedrock's own evaluation job, in the same table, named and scaled as Bedrock reports them
        f"<tr><th>Bedrock {escape(m.name)}<br><span class='small'>{escape(m.scale)}; "
        f"{escape(m.better + ' is better') if m.better else 'direction unknown'}; {m.prompts} prompts</span></th>"
        f"<td>{m.base:.4f}</td><td>{m.custom:.4f}</td><td>{_signed(m.delta)}</td><td>{m.ci95[0]:+.4f} to {m.ci95[1]:+.4f}</td></tr>"
        for m in (engine.metrics if engine else [])
    )
    engine_note = "" if engine is None else (
        f" Rows named Bedrock come from Amazon Bedrock's evaluation job ({escape(engine.status)}; results under "
        f"{escape(engine.output_uri or '-')}); they do not decide the promotion."
    )
    parts.append(
        "<h2>Metrics</h2><table><tr><th>metric</th><th>base</th><th>custom</th><th>delta</th><th>95% interval</th></tr>"
        f"{rows}</table><p class='small'>{report.samples_scored} samples scored; "
        f"{len(report.samples_failed)} failed (listed below).{engine_note}</p>"
    )
    if report.teacher is not None:
        teacher = report.teacher
        cells = "".join(
            f"<tr><th>{escape(m)}</th><td>{teacher.student_metrics[m]:.4f}</td><td>{teacher.teacher_metrics[m]:.4f}</td></tr>"
            for m in teacher.student_metrics
        )
        parts.append(
            f"<h2>Student and teacher</h2><p>{escape(teacher.text)}.</p><table><tr><th>metric</th>"
            f"<th>distilled student</th><th>teacher {escape(teacher.teacher)}</th></tr>{cells}</table>"
        )
    parts.extend(_trained_models(report))
    parts.append("<h2>Training</h2>")
    if training.available and training.reward_curve:
        parts.append(_chart([("mean reward of the sampled answers (by step)", "#1f8f3f", training.reward_curve)]))
        parts.append(f"<p>mean reward first {training.first_reward}, final {training.final_reward}. "
                     f"Flags: {escape(', '.join(training.flags) or 'none')}.</p>"
                     f"<p class='small'>{escape('; '.join(training.notes))}</p>")
    elif training.available:
        parts.append(_chart([("training loss (by step)", "#1f5fbf", training.training_curve or [])]))
        if training.validation_curve:
            parts.append(_chart([("validation loss (by epoch)", "#bf5f1f", training.validation_curve)]))
        parts.append(
            f"<p>final training loss {training.final_training_loss}, best {training.best_training_loss}; "
            f"validation loss final {training.final_validation_loss}, best {training.best_validation_loss}. "
            f"Flags: {escape(', '.join(training.flags) or 'none')}. Suggested epochs next time: {training.suggested_epochs}.</p>"
            f"<p class='small'>{escape('; '.join(training.notes))}</p>"
        )
    else:
        parts.append(f"<p>{escape('; '.join(training.notes))}</p>")
    split = report.split
    origin = f", held out of the training data with seed {split.get('seed')}" if split.get("source") == "held-out" else ""
    parts.append(f"<h2>Test set</h2><p>{escape(str(split.get('source')))}: {split.get('test_records')} records{origin}.</p>")
    cost = report.cost
    estimate, measured = cost.estimate, cost.measured
    lines = "".join(
        f"<tr><td>{escape(item.item)}</td><td>{item.quantity:,.4g} {escape(item.unit)}</td>"
        f"<td>{'unknown' if item.usd is None else f'${item.usd:,.2f}'}</td><td class='small'>{escape(item.note)}</td></tr>"
        for item in estimate.lines
    )
    total = "unknown (a price is missing)" if estimate.total_usd is None else f"${estimate.total_usd:,.2f}"
    budget = "" if cost.budget_usd is None else f" against a budget of ${cost.budget_usd:,.2f}"
    inference = "unknown" if measured.inference_usd is None else f"${measured.inference_usd:,.4f}"
    deployment_cost = "price unknown" if measured.deployment_usd is None else f"${measured.deployment_usd:,.2f} billed"
    parts.append(
        f"<h2>Cost</h2><p>Estimated before the run: <b>{total}</b>{budget} ({escape(estimate.region)} list prices, "
        f"USD). The evaluation measured {measured.base_input_tokens:,} + {measured.custom_input_tokens:,} input and "
        f"{measured.base_output_tokens:,} + {measured.custom_output_tokens:,} output tokens (base + custom), "
        f"{inference} at the same rates. The deployment had existed {measured.deployment_hours:.2f} h when this "
        f"report was written ({deployment_cost}; Tear Down deletes it next).</p><table><tr><th>item</th><th>quantity</th><th>cost</th><th>note</th></tr>{lines}</table>"
    )
    primary = report.primary_metric
    def shown(uri: str) -> str:
        if uri in (pictures or {}):
            return f"<img src='{pictures[uri]}' alt='{escape(uri)}' style='max-width:160px;max-height:160px'><br>"  # type: ignore[index]
        return f"<span class='small'>{escape(uri)}</span><br>"

    sample_rows = "".join(
        f"<tr><td>{s.index}</td><td>{_signed(s.delta)}</td><td>{''.join(shown(uri) for uri in s.media)}</td>"
        f"<td class='text'>{escape(s.reference)}</td>"
        f"<td class='text'>{escape(s.base)}<br><span class='small'>{primary} {s.scores['base'][primary]:.3f}</span></td>"
        f"<td class='text'>{escape(s.custom)}<br><span class='small'>{primary} {s.scores['custom'][primary]:.3f}</span></td></tr>"
        for s in report.samples
    )
    parts.append(
        "<h2>Samples, largest regressions first</h2><table><tr><th>#</th><th>delta</th><th>shown</th><th>reference</th>"
        f"<th>base</th><th>custom</th></tr>{sample_rows}</table>"
    )
    if report.samples_failed:
        failed = "".join(
            f"<li>sample {f.index}: {escape('; '.join(f'{role}: {error}' for role in ROLES if (error := getattr(f, role))))}</li>"
            for f in report.samples_failed
        )
        parts.append(f"<h2>Failed samples</h2><ul>{failed}</ul>")
    parts.append("</body></html>")
    return "".join(parts)
