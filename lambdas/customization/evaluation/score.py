"""Score Samples: both models answer every sample of the given shards (all of them on the
single-step path, one per Map iteration), with the answers' embeddings compared to the
reference when semantic similarity is asked. Results are written per shard; Report
Evaluation reads them the same way on either path, so both give one answer."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from customization.errors import EvaluationFailedError
from customization.evaluation.contracts import ROLES, AnsweredSample, Answerer, Sample
from customization.evaluation.inference import InferenceSettings, answer_samples
from customization.evaluation.judging import bedrock_judge, judged
from customization.evaluation.plan import read_shard
from customization.models.grading import grader_sample, grading_fields, openai_messages, read_scores
from customization.models.steps import DeploymentState, RunContext, ScoringOutcome, Shard
from customization.registry import load_registry
from customization.vocabulary import EVALUATION_DIR

if TYPE_CHECKING:
    from customization.adapters.graders import Graders
    from customization.adapters.runtime import BedrockRuntime
    from customization.adapters.storage import ObjectStore
    from customization.models.request import JudgeSettings, ReinforcementSettings

RESULTS = f"{EVALUATION_DIR}results/"
GRADER_BATCH = 64  # samples per grader invocation
GRADER_SECONDS = 300  # per batch, inside Score Samples' 900 s


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return round(dot / norm, 4) if norm else 0.0


def _add_similarity(rows: list[AnsweredSample], model_id: str, runtime: BedrockRuntime) -> None:
    for row in rows:
        reference = runtime.embed(model_id=model_id, text=row.reference)
        for answer in [row.answer(role) for role in ROLES] + ([row.teacher] if row.teacher else []):
            if answer.text is not None:
                answer.similarity = cosine(reference, runtime.embed(model_id=model_id, text=answer.text))


def _add_rewards(
    rows: list[AnsweredSample], samples: list[Sample], reinforcement: ReinforcementSettings, grader: str, graders: Graders
) -> None:
    """Each answer scored by the run's grader, as Bedrock scored the answers it trained on."""
    by_index = {sample.index: sample for sample in samples}
    sent, targets = [], {}
    for row in rows:
        sample = by_index[row.index]
        fields = grading_fields(sample.grading or {}, reinforcement)
        for role, answer in (("base", row.base), ("custom", row.custom), ("teacher", row.teacher)):
            if answer is not None and answer.text is not None:
                sample_id = f"eval-{row.index}-{role}"
                sent.append(grader_sample(sample_id, openai_messages(sample.system, sample.messages, answer.text), fields))
                targets[sample_id] = answer
    for start in range(0, len(sent), GRADER_BATCH):
        batch = sent[start : start + GRADER_BATCH]
        for sample_id, score in read_scores(batch, graders.grade(grader, batch), grader).items():
            targets[sample_id].reward = round(score, 4)


def _add_judge(rows: list[AnsweredSample], settings: JudgeSettings, runtime: BedrockRuntime) -> None:
    """Each answer scored by the request's LLM judge, against its rubric and the reference."""
    ask = bedrock_judge(runtime, settings.model)
    for row in rows:
        for answer in (row.base, row.custom, row.teacher):
            if answer is not None and answer.text is not None:
                answer.judge = round(judged(ask, rubric=settings.rubric, reference=row.reference, answer=answer.text), 4)


def _as_the_model_takes_them(samples: list[Sample], run: RunContext, store: ObjectStore) -> list[Sample]:
    """Images go to the models from S3 where their Converse API reads it (Amazon Nova), else as
    their bytes, read here (registry: media.converse_s3_source)."""
    media = load_registry().resolve(run.base_model_id).customization(run.customization_type).media
    if media is None or media.converse_s3_source or not any(s.media for s in samples):
        return samples

    def with_bytes(block: dict[str, Any]) -> dict[str, Any]:
        if "video" in block:
            raise EvaluationFailedError(f"{run.base_model_id} takes no video, and a test record shows one")
        if "image" not in block or "s3Location" not in block["image"]["source"]:
            return block
        uri = block["image"]["source"]["s3Location"]["uri"]
        return {"image": {"format": block["image"]["format"], "source": {"bytes": store.read_bytes(uri)}}}

    return [s.model_copy(update={"messages": [{**m, "content": [with_bytes(b) for b in m["content"]]} for m in s.messages]})
            if s.media else s for s in samples]


def score_shards(
    run: RunContext, deployment: DeploymentState, shards: list[Shard], *, runtime: BedrockRuntime, store: ObjectStore,
    graders: Graders | None = None,
) -> ScoringOutcome:
    settings = InferenceSettings(max_tokens=run.evaluation.max_tokens, temperature=run.evaluation.temperature)
    models: dict[Answerer, str] = {"base": run.base_model_invocation_id, "custom": deployment.arn or ""}
    if run.teacher_invocation_id:  # a distilled student is also held to its teacher
        models["teacher"] = run.teacher_invocation_id
    answered = failed = 0
    for shard in shards:
        samples = read_shard(store.read_text(shard.uri))
        shown = {sample.index: sample.media for sample in samples}  # by URI, however the models were sent them
        rows = answer_samples(_as_the_model_takes_them(samples, run, store), models, runtime=runtime, settings=settings,
                              concurrency=run.evaluation.concurrency)
        rows = [row.model_copy(update={"media": shown[row.index]}) for row in rows]
        if run.evaluation.semantic_similarity:
            _add_similarity(rows, run.evaluation.embedding_model, runtime)
        if run.evaluation.judge is not None:
            _add_judge(rows, run.evaluation.judge, runtime)
        if run.reinforcement is not None and run.grader_arn and graders is not None:
            _add_rewards(rows, samples, run.reinforcement, run.grader_arn, graders)
        body = "".join(row.model_dump_json() + "\n" for row in rows)
        store.put_bytes(run.uri(f"{RESULTS}shard-{shard.index:04d}.jsonl"), body.encode(), "application/jsonl")
        failed += sum(1 for row in rows if row.base.error is not None or row.custom.error is not None)
        answered += len(rows)
    return ScoringOutcome(shards=[shard.index for shard in shards], samples=answered, failed=failed)


def read_results(run: RunContext, store: ObjectStore) -> list[AnsweredSample]:
    """Every shard's results, in sample order."""
    rows = [
        AnsweredSample.model_validate_json(line)
        for uri in store.list_keys(run.uri(RESULTS))
        for line in store.read_text(uri).splitlines() if line.strip()
    ]
    return sorted(rows, key=lambda row: row.index)
