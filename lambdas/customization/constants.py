"""Names the functions and the infrastructure share (pure: importable at synthesis)."""

METRICS_NAMESPACE = "BedrockCustomize"
