"""Scoring of base and custom model answers against the references (ROUGE-L F1 from
Google's rouge-score package), and the plain-words verdict."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean

from rouge_score import rouge_scorer

# Below this absolute ROUGE-L difference the two models are called equivalent.
TIE_MARGIN = 0.005


@dataclass(frozen=True)
class Verdict:
    custom_is_better: bool
    delta: float
    text: str


def rouge_l(predictions: list[str], references: list[str]) -> list[float]:
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return [scorer.score(ref, pred)["rougeL"].fmeasure for pred, ref in zip(predictions, references, strict=True)]


def mean_score(scores: list[float]) -> float:
    return round(fmean(scores), 4) if scores else 0.0


def verdict(base: float, custom: float, samples: int) -> Verdict:
    delta = round(custom - base, 4)
    if delta > TIE_MARGIN:
        text = f"custom model is BETTER than the base model: ROUGE-L {custom:.4f} vs {base:.4f} ({delta:+.4f}) on {samples} samples"
        return Verdict(True, delta, text)
    if delta < -TIE_MARGIN:
        text = f"custom model is WORSE than the base model: ROUGE-L {custom:.4f} vs {base:.4f} ({delta:+.4f}) on {samples} samples"
        return Verdict(False, delta, text)
    text = f"custom model is NOT BETTER than the base model: ROUGE-L {custom:.4f} vs {base:.4f} ({delta:+.4f}, within {TIE_MARGIN}) on {samples} samples"
    return Verdict(False, delta, text)
