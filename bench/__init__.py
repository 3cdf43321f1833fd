"""Benchmark harness for article-facts: corpus generator, bare ASGI baseline and runner."""
