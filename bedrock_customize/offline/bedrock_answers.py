"""How the simulated models answer (deterministic, and a property of this simulation, not of
Bedrock): the base model verbosely, a custom model in the length it learned, a teacher as a
base model, cut to its maximum response length."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from bedrock_customize.offline.bedrock_state import words_of


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return " ".join(b["text"] for b in content or [] if isinstance(b, dict) and isinstance(b.get("text"), str))


def training_answer(raw: bytes) -> str:
    """The answer a training record teaches, read the way a trainer would, whatever the record's
    format: the completion, or the last assistant turn, or (unlabelled text) its second half."""
    try:
        record = json.loads(raw)
    except ValueError:
        return ""
    if not isinstance(record, dict):
        return ""
    if isinstance(record.get("completion"), str):
        return str(record["completion"])
    messages = record.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "assistant":
        return text_of(messages[-1].get("content"))
    words = record["input"].split() if isinstance(record.get("input"), str) else []
    return " ".join(words[len(words) // 2 :]) if len(words) >= 2 else ""


def teacher_answer(raw: bytes, max_tokens: int) -> str:
    """What a teacher answers a distillation prompt: what it answers in Converse, cut to
    maxResponseLengthForInference (about three quarters of a word a token)."""
    try:
        messages = json.loads(raw)["messages"]
    except (ValueError, KeyError, TypeError):
        return ""
    asked = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"] if isinstance(messages, list) else []
    words = base_answer(source_text({"messages": asked})).split()
    return " ".join(words[: max(1, int(max_tokens * 0.75))])


def source_text(params: dict[str, Any]) -> str:
    """The material of the last user turn: its longest paragraph (instructions are short)."""
    for message in reversed(params.get("messages", [])):
        if message.get("role") == "user":
            text = " ".join(block.get("text", "") for block in message.get("content", []))
            paragraphs = [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]
            return max(paragraphs, key=len) if paragraphs else ""
    return ""


def base_answer(source: str) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", source)
    body = " ".join(sentences[:3])
    return f"Certainly! Here is an overview of the text you shared. {body} I hope this summary is helpful; let me know if you need more detail."


def custom_answer(source: str, profile: dict[str, float]) -> str:
    """The learned style; a model that learned only part of it (`learned` below 1, a learning
    rate far from the best) still answers a matching share of prompts as the base model does."""
    learned = profile.get("learned", 1.0)
    if learned < 1.0 and int(hashlib.sha256(source.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF >= learned:
        return base_answer(source)
    words = words_of(source)[: max(1, round(profile["answer_words"]))]
    return " ".join(words).rstrip(",;:") + ("" if words and words[-1].endswith(".") else ".")


def styled_answer(source: str, words: int) -> str:
    """An answer in one of the simulated policy's styles: verbose (0), or the first `words` words."""
    return base_answer(source) if words == 0 else custom_answer(source, {"answer_words": words})
