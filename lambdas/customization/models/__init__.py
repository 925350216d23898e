"""Pydantic contracts: the request (execution input) and every step's input and output."""
