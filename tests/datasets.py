"""Small valid datasets in every data format, written to files for workflow tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ARTICLE = (
    "The {town} council voted 6 to 1 on Monday to approve a new library costing {cost} million dollars. "
    "Construction starts in spring and takes a year. Residents asked about parking during the works."
)
SUMMARY = "The {town} council approved a new library costing {cost} million dollars."
TOWNS = ["Riverton", "Eastbrook", "Northgate", "Oakridge", "Ashford", "Clearwater", "Fairhaven", "Pine Hollow"]


def record(data_format: str, index: int) -> dict[str, Any]:
    # Distinct for every index, so generated datasets hold no duplicate records.
    town, cost = TOWNS[index % len(TOWNS)], 3 + index
    article, summary = ARTICLE.format(town=town, cost=cost), SUMMARY.format(town=town, cost=cost)
    if data_format == "conversation":
        return {
            "schemaVersion": "bedrock-conversation-2024",
            "system": [{"text": "Summarize local news in one sentence."}],
            "messages": [
                {"role": "user", "content": [{"text": f"Summarize:\n\n{article}"}]},
                {"role": "assistant", "content": [{"text": summary}]},
            ],
        }
    if data_format == "distillation":  # prompts; every other one with a reference answer
        prompt = record("conversation", index)
        return prompt if index % 2 == 0 else {**prompt, "messages": prompt["messages"][:1]}
    if data_format == "rft_chat":  # a prompt and its reference answer, for a grader
        return {
            "messages": [{"role": "system", "content": "Summarize local news in one sentence."},
                         {"role": "user", "content": f"Summarize:\n\n{article}"}],
            "reference_answer": summary,
            "town": town,
        }
    if data_format == "claude_messages":
        return {
            "system": "Summarize local news in one sentence.",
            "messages": [{"role": "user", "content": f"Summarize:\n\n{article}"}, {"role": "assistant", "content": summary}],
        }
    if data_format == "prompt_completion":
        return {"prompt": f"Summarize:\n\n{article}", "completion": summary}
    return {"input": f"{article} {summary}"}


def provisioned_unless_chosen(request: dict[str, Any]) -> dict[str, Any]:
    """The request with deployment.mode provisioned unless it says otherwise: most tests follow
    a provisioned throughput's life (a request that says nothing gets the cheapest mode its
    model offers, which its own tests cover)."""
    deployment = request.get("deployment")
    if isinstance(deployment, dict) and "mode" in deployment:
        return request
    return {**request, "deployment": {**(deployment or {}), "mode": "provisioned"}}


def write_dataset(path: Path, data_format: str, count: int, start: int = 0) -> Path:
    path.write_text("".join(json.dumps(record(data_format, start + i)) + "\n" for i in range(count)), encoding="utf-8")
    return path
