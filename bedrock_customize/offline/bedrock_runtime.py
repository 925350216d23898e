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
from customization.registry import BaseModelSpec
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
            self._check_media(p, serving.attributes["model"].attributes["model"])
            answer = base_answer(source_text(p)) if profile.get("verbose") else custom_answer(source_text(p), profile)
        else:  # a foundation model, as a base model or as a distillation teacher: the same answer
            if self._teacher(model_id) is None:
                self._check_media(p, self._base_model(model_id, customization=False))
            answer = base_answer(source_text(p))
        prompt_tokens = max(1, len(json.dumps(p.get("messages", []), default=lambda raw: "x" * (len(raw) // 750))) // 4)
        output_tokens = min(max(1, len(answer) // 4), p.get("inferenceConfig", {}).get("maxTokens", 4096))
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": prompt_tokens, "outputTokens": output_tokens, "totalTokens": prompt_tokens + output_tokens},
            "metrics": {"latencyMs": 40 + 3 * output_tokens},
        }

    def _check_media(self, p: dict[str, Any], model: BaseModelSpec) -> None:
        """Images and videos as the registry says the model's Converse API takes them: from S3
        only where it reads S3 (and the object exists), else as bytes; none for a text model."""
        rules = [c.media for c in model.customizations.values() if c.media is not None]
        for message in p.get("messages", []):
            for block in message.get("content", []):
                for kind in ("image", "video"):
                    if kind not in block:
                        continue
                    if not any(getattr(r, f"{kind}s") for r in rules):
                        raise ServiceError("ValidationException", f"{model.display_name} does not take {kind} content")
                    source = block[kind]["source"]
                    self.media_seen.append((p["modelId"], kind, "s3" if "s3Location" in source else "bytes"))
                    if "s3Location" in source:
                        if not any(r.converse_s3_source for r in rules):
                            raise ServiceError("ValidationException",
                                               f"{model.display_name} does not read {kind}s from S3 in Converse; send the bytes")
                        self._require_object(source["s3Location"]["uri"])

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
