"""Thin Dagster assets of the labeling loop, one module per group."""
