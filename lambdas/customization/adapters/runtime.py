"""Bedrock runtime: the Converse API, the same call shape for every model family."""

from __future__ import annotations

import json
from typing import Any

from customization.adapters.errors import aws_errors
from customization.models.resources import ModelReply


class BedrockRuntime:
    def __init__(self, client: Any) -> None:
        self._client = client

    @property
    def region(self) -> str | None:
        """Where the calls go: a model is invoked by the id (or profile) of this region's geography."""
        return self._client.meta.region_name

    def converse(
        self, *, model_id: str, system: list[dict[str, str]], messages: list[dict[str, Any]], max_tokens: int, temperature: float
    ) -> ModelReply:
        params: dict[str, Any] = {
            "modelId": model_id,
            "messages": messages,
            "inferenceConfig": {"maxTokens": max_tokens, "temperature": temperature},
        }
        if system:
            params["system"] = system
        with aws_errors(f"converse with {model_id}"):
            response = self._client.converse(**params)
        content = response["output"]["message"]["content"]
        usage = response.get("usage", {})
        return ModelReply(
            text=" ".join(block["text"] for block in content if "text" in block),
            input_tokens=usage.get("inputTokens", 0),
            output_tokens=usage.get("outputTokens", 0),
            latency_ms=response.get("metrics", {}).get("latencyMs", 0),
        )

    def embed(self, *, model_id: str, text: str) -> list[float]:
        """An embedding from a Titan text embedding model (InvokeModel)."""
        with aws_errors(f"embed with {model_id}"):
            response = self._client.invoke_model(
                modelId=model_id, body=json.dumps({"inputText": text}), contentType="application/json",
                accept="application/json",
            )
        return [float(x) for x in json.loads(response["body"].read())["embedding"]]
