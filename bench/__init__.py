"""Benchmarks for the bulk paths: import, next-task latency and streamed exports."""
