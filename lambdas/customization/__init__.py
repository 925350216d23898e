"""Bedrock model customization lifecycle: the code that runs inside every Lambda step."""
