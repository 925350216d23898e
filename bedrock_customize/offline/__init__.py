"""The offline engine: the synthesized stack in moto, the real handlers in-process, and a
simulated Bedrock for what moto lacks."""
