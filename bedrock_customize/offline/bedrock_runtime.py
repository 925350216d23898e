"""The simulated Bedrock runtime: Converse and the embedding models."""

from __future__ import annotations

import json
import math
import re
import zlib
from typing import Any

from bedrock_customize.offline.bedrock_answers import (
    base_answer,
    custom_answer,
    source_text,
)
from bedrock_customize.offline.bedrock_state import (
    BedrockState,
    ServiceError,
)
from customization.vocabulary import ResourceKind


class Runtime(BedrockState):
    # -- runtime -------------------------------------------------------------------------

    def _op_converse(self, p: dict[str, Any]) -> dict[str, Any]:
        model_id = p["modelId"]
        if ":provisioned-model/" in model_id or ":custom-model-deployment/" in model_id:
            kind = ResourceKind.PROVISIONED_THROUGHPUT if ":provisioned-model/" in model_id else ResourceKind.CUSTOM_MODEL_DEPLOYMENT
            serving = self._find(kind, model_id)
            if serving.status not in ("InService", "Active"):
                raise ServiceError("ValidationException", f"{serving.name} is {serving.status}, not ready for inference")
            profile = serving.attributes["model"].attributes["profile"]
            answer = base_answer(source_text(p)) if profile.get("verbose") else custom_answer(source_text(p), profile)
        else:  # a foundation model, as a base model or as a distillation teacher: the same answer
            if self._teacher(model_id) is None:
                self._base_model(model_id, customization=False)
            answer = base_answer(source_text(p))
        prompt_tokens = max(1, len(json.dumps(p.get("messages", []))) // 4)
        output_tokens = min(max(1, len(answer) // 4), p.get("inferenceConfig", {}).get("maxTokens", 4096))
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": prompt_tokens, "outputTokens": output_tokens, "totalTokens": prompt_tokens + output_tokens},
            "metrics": {"latencyMs": 40 + 3 * output_tokens},
        }

    def _op_invoke_model(self, p: dict[str, Any]) -> bytes:
        """Only the Titan text embedding models: a bag-of-words vector, hashed into 256 dims."""
        if not p["modelId"].startswith("amazon.titan-embed-text"):
            raise ServiceError("ValidationException", f"the offline simulation invokes only embedding models, not {p['modelId']}")
        body = p["body"]
        text = json.loads(body if isinstance(body, (bytes, str)) else body.read())["inputText"]
        vector = [0.0] * 256
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            vector[zlib.crc32(word.encode()) % 256] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return json.dumps({"embedding": [x / norm for x in vector], "inputTextTokenCount": len(text.split())}).encode()
