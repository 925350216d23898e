"""The simulated Bedrock's reinforcement fine-tuning: what a REINFORCEMENT_FINE_TUNING job must
name (rftConfig's grader and typed hyperparameters, read from the registry), and what it
learns. Like the rest of the simulation it learns one thing, the length of its answers: each
training prompt is answered in several candidate styles, the job's grader scores every answer
through the emulated Lambda, exactly as Bedrock calls a grader, and the custom model keeps the
style with the highest mean reward. The reward curve it writes climbs from the styles' mean
to the best style's. The scores are the real grader's; the learning is this simulation's."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bedrock_customize.offline import clients

# Answer lengths (words) the simulated policy tries; 0 is the base model's verbose style.
STYLES = (0, 3, 6, 12, 24, 48)
MAX_PROMPTS = 40  # prompts graded per job: enough to rank the styles, cheap offline
BATCH = 64  # samples per grader invocation


class RftRejected(ValueError):
    """A reinforcement job Bedrock would refuse."""


@dataclass(frozen=True)
class Learned:
    profile: dict[str, float]
    reward_rows: list[tuple[int, int, float]]  # step, epoch, mean reward
    graded: int


def check_job(p: dict[str, Any], customization_type: str) -> dict[str, Any] | None:
    """rftConfig for REINFORCEMENT_FINE_TUNING only, with a grader (its hyperparameters are
    checked as a job's are); returns the rftConfig (None for other jobs)."""
    config = p.get("customizationConfig", {}).get("rftConfig")
    if customization_type != "REINFORCEMENT_FINE_TUNING":
        if config:
            raise RftRejected(f"rftConfig is only for REINFORCEMENT_FINE_TUNING, not {customization_type}")
        return None
    if not config or "lambdaGrader" not in config.get("graderConfig", {}):
        raise RftRejected("a REINFORCEMENT_FINE_TUNING job needs customizationConfig.rftConfig.graderConfig.lambdaGrader")
    if p.get("hyperParameters"):
        raise RftRejected("a REINFORCEMENT_FINE_TUNING job takes its hyperparameters in rftConfig.hyperParameters")
    return dict(config)


def _scores(batch: list[dict[str, Any]], answer: Any, grader: str) -> dict[str, float]:
    """The documented reward-function answer, read as Bedrock reads it (this simulation's own
    reading, not the pipeline's): a list with each sample's id and a score in [0, 1]."""
    if not isinstance(answer, list):
        raise ValueError(f"{grader} answered {str(answer)[:200]}, not a list of scores")
    scores = {}
    for item in answer:
        score = item.get("aggregate_reward_score") if isinstance(item, dict) else None
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
            raise ValueError(f"{grader} gave {item!r}: aggregate_reward_score must be a number in [0, 1]")
        scores[str(item.get("id"))] = float(score)
    missing = {str(sample["id"]) for sample in batch} - set(scores)
    if missing:
        raise ValueError(f"{grader} left {len(missing)} of {len(batch)} samples unscored")
    return scores


def _prompt_text(messages: list[dict[str, Any]]) -> str:
    users = [m.get("content", "") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return str(users[-1]) if users else ""


def learn(
    lines: list[bytes], config: dict[str, Any], *, region: str, seed: str,
    source_of: Callable[[list[dict[str, Any]]], str], answer_in_style: Callable[[str, int], str],
) -> Learned:
    """Grade every style on the first prompts with the job's grader; keep the best."""
    grader = config["graderConfig"]["lambdaGrader"]["lambdaArn"]
    hyper = config.get("hyperParameters", {})
    records = [json.loads(raw) for raw in lines if raw.strip()][:MAX_PROMPTS]
    samples, styles_of = [], {}
    for number, record in enumerate(records):
        source = source_of(record["messages"])
        fields = {key: value for key, value in record.items() if key != "messages"}
        for words in STYLES:
            sample_id = f"rollout-{number}-{words}"
            answer = answer_in_style(source, words)
            samples.append({**fields, "id": sample_id, "messages": [*record["messages"], {"role": "assistant", "content": answer}]})
            styles_of[sample_id] = words
    client = clients.client("lambda", region)
    scores: dict[str, float] = {}
    for start in range(0, len(samples), BATCH):
        batch = samples[start : start + BATCH]
        response = client.invoke(FunctionName=grader, Payload=json.dumps(batch).encode())
        scores.update(_scores(batch, json.loads(response["Payload"].read() or b"null"), grader))
    by_style = {words: [scores[i] for i, w in styles_of.items() if w == words] for words in STYLES}
    means = {words: sum(values) / len(values) for words, values in by_style.items() if values}
    best = max(means, key=lambda words: (means[words], -words))
    epochs = int(hyper.get("epochCount", 1))
    steps_per_epoch = max(1, min(20, math.ceil(len(records) / max(1, int(hyper.get("batchSize", 16))))))
    start_reward, end_reward = sum(means.values()) / len(means), means[best]
    rng = random.Random(seed)
    total = epochs * steps_per_epoch
    rows = []
    for step in range(total):
        progress = 1 - math.exp(-3 * (step + 1) / total)
        reward = start_reward + (end_reward - start_reward) * progress + rng.uniform(-0.01, 0.01)
        rows.append((step, step // steps_per_epoch, round(min(1.0, max(0.0, reward)), 4)))
    profile = {"answer_words": float(best) if best else 24.0, "verbose": float(best == 0), "records": float(len(records))}
    return Learned(profile=profile, reward_rows=rows, graded=len(samples))


def prompt_source(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A chat-completion prompt in the Converse shape the simulated models read."""
    return {"messages": [{"role": "user", "content": [{"text": _prompt_text(messages)}]}]}
