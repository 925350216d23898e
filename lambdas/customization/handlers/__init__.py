"""One module per Task state. Each handler parses its input, calls one core function and
returns that function's typed output; typed errors propagate to the state machine."""
