"""Test doubles shipped as real code: a scripted transcript, a scripted AutoGen model client
and a loopback OpenAI-compatible HTTP server. Used by the tests, the benchmarks and ``make demo``;
nothing here calls a real model."""
