"""The metrics, each defined once: its name, what it measures, and its function.

Adding a metric is one entry in METRICS plus its function; the request rules, the JSON
Schema, the report and the page all read this table. Scores lie in [0, 1], higher is better.
The heavy libraries (rouge-score, NLTK) load on first use, so the request rules can read
the names at synthesis without them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Metric:
    name: str
    description: str
    # (prediction, reference) -> score; None for a metric computed while the models answer
    # (it is then read from each answer).
    score: Callable[[str, str], float] | None
    # The request switch a metric needs, if any (its values exist only when it is on).
    needs: str | None = None


ROUGE_KINDS = ("rouge1", "rouge2", "rougeL")


@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(ROUGE_KINDS), use_stemmer=True)


@lru_cache(maxsize=4096)
def _rouge_scores(prediction: str, reference: str) -> dict[str, float]:
    """The three ROUGE variants of one pair at once: the pair is tokenized and stemmed once, not
    once per variant (most of the report's time)."""
    return {kind: float(score.fmeasure) for kind, score in _rouge_scorer().score(reference, prediction).items()}


def _rouge(kind: str) -> Callable[[str, str], float]:
    def score(prediction: str, reference: str) -> float:
        return _rouge_scores(prediction, reference)[kind]

    return score


def _chrf(prediction: str, reference: str) -> float:
    from nltk.translate.chrf_score import sentence_chrf

    return float(sentence_chrf(reference, prediction)) if prediction.strip() and reference.strip() else 0.0


def _normalized(text: str) -> str:
    return _SPACES.sub(" ", text.strip().lower())


def _exact_match(prediction: str, reference: str) -> float:
    return float(_normalized(prediction) == _normalized(reference))


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("rouge1", "ROUGE-1 F1: shared words (stemmed)", _rouge("rouge1")),
        Metric("rouge2", "ROUGE-2 F1: shared word pairs (stemmed)", _rouge("rouge2")),
        Metric("rougeL", "ROUGE-L F1: the longest common word sequence (stemmed)", _rouge("rougeL")),
        Metric("chrf", "chrF: character n-gram F-score (NLTK)", _chrf),
        Metric("exact_match", "1 when the answer equals the reference, ignoring case and spacing", _exact_match),
        Metric("similarity", "cosine similarity of the answer's and the reference's embeddings", None,
               needs="semantic_similarity"),
        Metric("judge", "an LLM judge's 0-10 score of the answer against the rubric and the reference, scaled to 0-1",
               None, needs="judge"),
        Metric("reward", "the run's reinforcement grader's score of the answer (what the job was trained to raise)", None,
               needs="reinforcement"),
    )
}


def active_metrics(switches: dict[str, bool]) -> list[str]:
    """The metrics a run reports: every one whose switch, if it has one, is on."""
    return [m.name for m in METRICS.values() if m.needs is None or switches.get(m.needs, False)]


def score_answer(prediction: str, reference: str, names: Iterable[str]) -> dict[str, float]:
    """The text metrics among `names` of one answer against its reference."""
    return {name: METRICS[name].score(prediction, reference) for name in names if METRICS[name].score is not None}  # type: ignore[misc]
